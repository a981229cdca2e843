//! Choosing where the network runs: one binary for CPU and CUDA nodes.
//!
//! tch links `libtorch_cuda.so` only if the linker keeps it, and it does not (tch-rs
//! #177, #329, #907): without it `Cuda::is_available()` is false even on a GPU. Linking it
//! hard makes the binary refuse to start on a CPU-only install (its CUDA dependencies are
//! missing there). So the library is opened at run time instead: on a GPU node it
//! registers libtorch's CUDA backend, on a CPU node the open fails cleanly and we stay on
//! the CPU.
//!
//! Threading: tch modules are not `Sync` (tch-rs #460, #585). A [`crate::Scorer`] is
//! `Send` but not `Sync`: give each worker thread its own (they are small: ~50k
//! parameters), or guard one with a mutex. libtorch's intra-op thread pool is
//! process-wide: set it once with [`set_threads`].

use crate::error::{ModelError, Result};
use std::sync::OnceLock;
use tch::Device;

/// Where the caller wants the network to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceRequest {
    /// CUDA device 0 when libtorch's CUDA backend loads and sees a GPU, else the CPU.
    Auto,
    Cpu,
    Cuda(usize),
}

impl std::str::FromStr for DeviceRequest {
    type Err = ModelError;
    /// `auto`, `cpu`, `cuda` or `cuda:N`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(DeviceRequest::Auto),
            "cpu" => Ok(DeviceRequest::Cpu),
            "cuda" => Ok(DeviceRequest::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceRequest::Cuda)
                .ok_or_else(|| {
                    ModelError::Device(format!(
                        "unknown device `{s}` (expected auto, cpu, cuda or cuda:N)"
                    ))
                }),
        }
    }
}

/// The device chosen and why, for the log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceChoice {
    pub device: Device,
    pub reason: &'static str,
}

/// The CUDA backend library, kept open for the life of the process.
static CUDA_BACKEND: OnceLock<std::result::Result<libloading::Library, String>> = OnceLock::new();

/// Opens `libtorch_cuda.so` once (from the library path, then from `$LIBTORCH/lib`).
/// Returns why it could not be opened.
pub fn load_cuda_backend() -> std::result::Result<(), String> {
    let loaded = CUDA_BACKEND.get_or_init(|| {
        let mut candidates = vec![std::path::PathBuf::from("libtorch_cuda.so")];
        if let Some(root) = std::env::var_os("LIBTORCH") {
            candidates.push(
                std::path::Path::new(&root)
                    .join("lib")
                    .join("libtorch_cuda.so"),
            );
        }
        let mut errors = Vec::new();
        for candidate in candidates {
            // SAFETY: opening libtorch_cuda.so runs its static initialisers, which register
            // the CUDA backend with the libtorch already loaded in this process; it defines
            // no symbol we call through this handle, and the handle is never closed.
            #[allow(unsafe_code)]
            match unsafe { libloading::Library::new(&candidate) } {
                Ok(lib) => return Ok(lib),
                Err(e) => errors.push(e.to_string()),
            }
        }
        Err(errors.join("; "))
    });
    loaded.as_ref().map(|_| ()).map_err(Clone::clone)
}

/// Picks the device for `request` and logs the choice.
pub fn select_device(request: DeviceRequest) -> Result<DeviceChoice> {
    let choice = match request {
        DeviceRequest::Cpu => DeviceChoice {
            device: Device::Cpu,
            reason: "running on CPU: requested",
        },
        DeviceRequest::Auto | DeviceRequest::Cuda(_) => {
            let loaded = load_cuda_backend();
            let available = loaded.is_ok() && tch::Cuda::is_available();
            match (request, available) {
                (DeviceRequest::Cuda(n), true) if (n as i64) < tch::Cuda::device_count() => {
                    DeviceChoice {
                        device: Device::Cuda(n),
                        reason: "running on CUDA: requested",
                    }
                }
                (DeviceRequest::Cuda(n), _) => {
                    return Err(ModelError::Device(match loaded {
                        Err(e) => format!("cuda:{n} requested but libtorch_cuda did not load: {e}"),
                        Ok(()) => format!(
                            "cuda:{n} requested but libtorch sees {} CUDA devices",
                            tch::Cuda::device_count()
                        ),
                    }))
                }
                (_, true) => DeviceChoice {
                    device: Device::Cuda(0),
                    reason: "running on CUDA device 0",
                },
                (_, false) => {
                    if let Err(e) = &loaded {
                        tracing::debug!("libtorch_cuda did not load: {e}");
                    }
                    DeviceChoice {
                        device: Device::Cpu,
                        reason: if loaded.is_err() {
                            "running on CPU: libtorch_cuda not found"
                        } else {
                            "running on CPU: libtorch_cuda loaded but no CUDA device is visible"
                        },
                    }
                }
            }
        }
    };
    tracing::info!(device = ?choice.device, "{}", choice.reason);
    Ok(choice)
}

/// Cutouts per forward pass when scoring (and when measuring a trained model).
///
/// On CUDA, what fits comfortably (about 1 MB of activations per 64x64 cutout). On CPU,
/// small batches whose activations stay in the caches: 16 cutouts score about twice as
/// fast as 256 (measured on a 2-core AMD EPYC, 1 MiB of L2 per core: 1000 cutouts/s
/// at 16 or 32, 690 at 64, 510-540 at 256; `prospector bench` sets it beside PyTorch at
/// 256). Training batches are the recipe's own (`--batch-size`), not this.
pub fn inference_batch_size(device: Device) -> usize {
    match device {
        Device::Cuda(_) => 4096,
        _ => 16,
    }
}

/// Sets libtorch's intra-op CPU thread pool (process-wide).
pub fn set_threads(threads: usize) {
    tch::set_num_threads(threads.clamp(1, i32::MAX as usize) as i32);
}

/// A device's name for the model card and logs: `cpu`, `cuda:0`.
pub(crate) fn device_name(device: Device) -> String {
    match device {
        Device::Cuda(n) => format!("cuda:{n}"),
        Device::Cpu => "cpu".to_string(),
        other => format!("{other:?}").to_lowercase(),
    }
}
