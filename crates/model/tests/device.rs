//! Device choice: one binary for CPU and CUDA nodes.

use prospector_model::{select_device, Device, DeviceRequest};

#[test]
fn device_requests_parse_and_unknown_ones_are_named() {
    assert_eq!(
        "auto".parse::<DeviceRequest>().unwrap(),
        DeviceRequest::Auto
    );
    assert_eq!("cpu".parse::<DeviceRequest>().unwrap(), DeviceRequest::Cpu);
    assert_eq!(
        "cuda".parse::<DeviceRequest>().unwrap(),
        DeviceRequest::Cuda(0)
    );
    assert_eq!(
        "cuda:3".parse::<DeviceRequest>().unwrap(),
        DeviceRequest::Cuda(3)
    );
    let err = "gpu".parse::<DeviceRequest>().unwrap_err().to_string();
    assert!(err.contains("unknown device `gpu`"), "{err}");
}

#[test]
fn auto_picks_cuda_exactly_when_cuda_can_be_had() {
    assert_eq!(
        select_device(DeviceRequest::Cpu).unwrap().device,
        Device::Cpu
    );
    let auto = select_device(DeviceRequest::Auto).unwrap();
    match select_device(DeviceRequest::Cuda(0)) {
        Ok(cuda) => assert_eq!(
            (auto.device, cuda.device),
            (Device::Cuda(0), Device::Cuda(0))
        ),
        Err(err) => {
            assert_eq!(auto.device, Device::Cpu);
            assert!(auto.reason.starts_with("running on CPU"), "{}", auto.reason);
            assert!(err.to_string().contains("cuda:0 requested"), "{err}");
        }
    }
}
