//! The VQ-VAE network of the keras-io example, layer for layer:
//! encoder `Conv(32, 3x3, s2) ReLU, Conv(64, 3x3, s2) ReLU, Conv(D, 1x1)`, a codebook of
//! K codes, decoder `ConvT(64, 3x3, s2) ReLU, ConvT(32, 3x3, s2) ReLU, ConvT(1, 3x3, s1)`.
//!
//! Padding follows TensorFlow's `padding="same"`, which is not PyTorch's `padding=1`:
//! for a 3x3 stride-2 convolution of an even-sized input TensorFlow pads 0 rows before
//! and 1 after (PyTorch 1 and 1), so the kernels sit one pixel further on; the transposed
//! convolutions crop the last row and column of the full output where PyTorch would crop
//! the first. Initialisation is keras's too: Glorot-uniform kernels, zero biases and a
//! codebook drawn uniformly from [-0.05, 0.05].
//!
//! Weights are drawn from a seeded ChaCha generator, not from libtorch's global one, so
//! that a model is a function of its seed even when several are built at once.

use crate::config::Architecture;
use crate::error::{ModelError, Result};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

/// keras's `random_uniform_initializer()` bounds for the codebook.
const CODEBOOK_INIT_LIMIT: f32 = 0.05;
pub(crate) const CODEBOOK: &str = "quantiser.codebook";

#[derive(Debug, Clone, Copy, PartialEq)]
enum LayerKind {
    Conv,
    ConvTranspose,
}

/// One layer's fixed shape.
#[derive(Debug, Clone, Copy)]
struct LayerSpec {
    name: &'static str,
    kind: LayerKind,
    in_channels: i64,
    out_channels: i64,
    kernel: i64,
    stride: i64,
    relu: bool,
}

impl LayerSpec {
    fn weight_shape(&self) -> [i64; 4] {
        let (k, i, o) = (self.kernel, self.in_channels, self.out_channels);
        match self.kind {
            LayerKind::Conv => [o, i, k, k],
            LayerKind::ConvTranspose => [i, o, k, k],
        }
    }

    /// keras's Glorot-uniform bound: sqrt(6 / (fan_in + fan_out)).
    fn glorot_limit(&self) -> f32 {
        let area = (self.kernel * self.kernel) as f64;
        let fans = (self.in_channels + self.out_channels) as f64 * area;
        (6.0 / fans).sqrt() as f32
    }
}

fn layer_specs(arch: &Architecture) -> [LayerSpec; 6] {
    let d = arch.latent_dim as i64;
    let spec = |name, kind, in_channels, out_channels, kernel, stride, relu| LayerSpec {
        name,
        kind,
        in_channels,
        out_channels,
        kernel,
        stride,
        relu,
    };
    use LayerKind::{Conv, ConvTranspose};
    [
        spec("encoder.conv1", Conv, 1, 32, 3, 2, true),
        spec("encoder.conv2", Conv, 32, 64, 3, 2, true),
        spec("encoder.conv3", Conv, 64, d, 1, 1, false),
        spec("decoder.deconv1", ConvTranspose, d, 64, 3, 2, true),
        spec("decoder.deconv2", ConvTranspose, 64, 32, 3, 2, true),
        spec("decoder.deconv3", ConvTranspose, 32, 1, 3, 1, false),
    ]
}

/// Floating-point operations of one forward pass of one cutout through the network
/// (a multiply-add counts as two), with the quantiser's distances to every code: the
/// figure the benchmark sets beside libtorch's measured peak. Biases, activations and
/// padding are left out (under 1% here). A training step costs about three times this
/// (the backward pass about twice the forward).
pub fn forward_flops(arch: &Architecture) -> u64 {
    let mut side = arch.side as u64;
    let mut flops = 0;
    for (k, spec) in layer_specs(arch).iter().enumerate() {
        let (stride, kernel) = (spec.stride as u64, spec.kernel as u64);
        let per_position = 2 * kernel * kernel * (spec.in_channels * spec.out_channels) as u64;
        flops += match spec.kind {
            LayerKind::Conv => {
                side = side.div_ceil(stride);
                side * side * per_position
            }
            // A transposed convolution spreads every input position over a kernel.
            LayerKind::ConvTranspose => {
                let positions = side * side * per_position;
                side *= stride;
                positions
            }
        };
        if k == 2 {
            // After the encoder: each latent vector against every code.
            flops += side * side * 2 * (arch.latent_dim * arch.num_codes) as u64;
        }
    }
    flops
}

/// TensorFlow's "same" padding of a convolution (kernel `k`, stride `s`) whose
/// *larger* side is `n`: (before, after), with the odd pixel after.
fn same_padding(n: i64, kernel: i64, stride: i64) -> (i64, i64) {
    let out = (n + stride - 1) / stride;
    let total = ((out - 1) * stride + kernel - n).max(0);
    (total / 2, total - total / 2)
}

/// The 3x3 stride-2 transposed convolution kernel `[C_in, C_out, 3, 3]` (TensorFlow
/// "same": the full output's last row and column cropped) as a 2x2 convolution kernel
/// `[4 * C_out, C_in, 2, 2]` whose four outputs per channel, pixel-shuffled, are the
/// output's 2x2 blocks. Output row `2m` takes input row `m` through kernel row 0 and
/// row `m - 1` through kernel row 2; output row `2m + 1` takes row `m` through kernel
/// row 1. Over an input padded by one row and column before, the 2x2 window holds rows
/// `m - 1, m`, so each parity picks kernel taps by a fixed 0/1 selection, applied to
/// rows and columns alike. Built from the weights each pass, so gradients flow back
/// to them.
fn sub_pixel_kernel(weight: &Tensor) -> Result<Tensor> {
    // SELECT[parity][window position][kernel tap]
    #[rustfmt::skip]
    const SELECT: [f32; 12] = [
        0.0, 0.0, 1.0,   1.0, 0.0, 0.0, // even outputs: window row 0 <- tap 2, row 1 <- tap 0
        0.0, 0.0, 0.0,   0.0, 1.0, 0.0, // odd outputs: window row 1 <- tap 1
    ];
    let size = weight.size();
    let (c_in, c_out) = (size[0], size[1]);
    let select = Tensor::f_from_slice(&SELECT)?
        .f_view([2, 2, 3])?
        .f_to_device(weight.device())?;
    let kernel = Tensor::f_einsum(
        "ark,bcl,iokl->oabirc",
        &[&select, &select, weight],
        None::<&[i64]>,
    )?;
    Ok(kernel.f_reshape([4 * c_out, c_in, 2, 2])?)
}

#[derive(Debug)]
struct Layer {
    spec: LayerSpec,
    weight: Tensor,
    bias: Tensor,
}

impl Layer {
    /// The transposed convolution with TensorFlow's "same" padding, `[N, C, n, n]` to
    /// `[N, C', n * stride, n * stride]`.
    ///
    /// On CPU it is rewritten as ordinary convolutions, which oneDNN runs far faster
    /// than libtorch's transposed kernels at these shapes (training went from 1.04x to
    /// 1.18x PyTorch's images/s in `prospector bench`): the stride-2
    /// layers as a sub-pixel convolution ([`sub_pixel_kernel`]) and the stride-1 output
    /// layer as a convolution with the kernel flipped. The results equal the transposed
    /// convolution's up to float rounding (tested). CUDA keeps cuDNN's transposed kernel.
    fn conv_transpose_same(&self, x: &Tensor) -> Result<Tensor> {
        let s = &self.spec;
        let n = x.size()[2];
        let out = n * s.stride;
        let (before, after) = same_padding(out, s.kernel, s.stride);
        let on_cpu = x.device() == Device::Cpu;
        if on_cpu && s.kernel == 3 && s.stride == 2 && (before, after) == (0, 1) {
            let weight = sub_pixel_kernel(&self.weight)?;
            let bias = self.bias.f_repeat_interleave_self_int(4, 0, None)?;
            let y = x.f_constant_pad_nd([1, 0, 1, 0])?.f_conv2d(
                &weight,
                Some(&bias),
                [1, 1],
                [0, 0],
                [1, 1],
                1,
            )?;
            return Ok(y.f_pixel_shuffle(2)?);
        }
        if on_cpu && s.stride == 1 && before == after {
            let weight = self.weight.f_flip([2, 3])?.f_transpose(0, 1)?;
            let padding = s.kernel - 1 - before;
            return Ok(x.f_conv2d(&weight, Some(&self.bias), [1, 1], [padding; 2], [1, 1], 1)?);
        }
        let stride = [s.stride, s.stride];
        if before == after {
            Ok(x.f_conv_transpose2d(
                &self.weight,
                Some(&self.bias),
                stride,
                [before; 2],
                [0, 0],
                1,
                [1, 1],
            )?)
        } else {
            Ok(x.f_conv_transpose2d(
                &self.weight,
                Some(&self.bias),
                stride,
                [0, 0],
                [0, 0],
                1,
                [1, 1],
            )?
            .f_narrow(2, before, out)?
            .f_narrow(3, before, out)?)
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let s = &self.spec;
        let n = x.size()[2];
        let y = match s.kind {
            LayerKind::Conv => {
                let (before, after) = same_padding(n, s.kernel, s.stride);
                let stride = [s.stride, s.stride];
                if before == after {
                    x.f_conv2d(
                        &self.weight,
                        Some(&self.bias),
                        stride,
                        [before; 2],
                        [1, 1],
                        1,
                    )?
                } else {
                    x.f_constant_pad_nd([before, after, before, after])?
                        .f_conv2d(&self.weight, Some(&self.bias), stride, [0, 0], [1, 1], 1)?
                }
            }
            LayerKind::ConvTranspose => self.conv_transpose_same(x)?,
        };
        if s.relu {
            Ok(y.f_relu()?)
        } else {
            Ok(y)
        }
    }
}

/// The network's parameters on one device.
#[derive(Debug)]
pub(crate) struct VqVae {
    arch: Architecture,
    layers: Vec<Layer>,
    /// `[K, D]`, one code per row.
    pub(crate) codebook: Tensor,
}

/// What the encoder and quantiser make of a batch.
#[derive(Debug)]
pub(crate) struct Encoded {
    /// Encoder outputs, one row per latent-grid cell: `[N * h * w, D]`.
    pub(crate) flat: Tensor,
    /// Index of each row's nearest code: `[N * h * w]`, int64.
    pub(crate) codes: Tensor,
}

impl VqVae {
    /// A freshly initialised network (keras's initialisers, drawn from `rng`).
    pub(crate) fn init(arch: &Architecture, rng: &mut ChaCha8Rng, device: Device) -> Result<Self> {
        let uniform = |rng: &mut ChaCha8Rng, shape: &[i64], limit: f32| -> Result<Tensor> {
            let count = shape.iter().product::<i64>() as usize;
            let values: Vec<f32> = (0..count)
                .map(|_| rng.random_range(-limit..limit))
                .collect();
            Ok(Tensor::f_from_slice(&values)?.f_view(shape)?)
        };
        let mut tensors = BTreeMap::new();
        for spec in layer_specs(arch) {
            let weight = uniform(rng, &spec.weight_shape(), spec.glorot_limit())?;
            tensors.insert(format!("{}.weight", spec.name), weight);
            let bias = Tensor::f_zeros([spec.out_channels], (Kind::Float, Device::Cpu))?;
            tensors.insert(format!("{}.bias", spec.name), bias);
        }
        let codebook_shape = [arch.num_codes as i64, arch.latent_dim as i64];
        tensors.insert(
            CODEBOOK.to_string(),
            uniform(rng, &codebook_shape, CODEBOOK_INIT_LIMIT)?,
        );
        Self::from_tensors(arch, tensors, device)
    }

    /// The network made of named tensors (from a file), checked against `arch`.
    pub(crate) fn from_tensors(
        arch: &Architecture,
        mut tensors: BTreeMap<String, Tensor>,
        device: Device,
    ) -> Result<Self> {
        let mut take = |name: String, shape: &[i64]| -> Result<Tensor> {
            let t = tensors
                .remove(&name)
                .ok_or_else(|| ModelError::Input(format!("tensor `{name}` is missing")))?;
            if t.size() != shape || t.kind() != Kind::Float {
                return Err(ModelError::Input(format!(
                    "tensor `{name}` is {:?} {:?}, expected Float {shape:?}",
                    t.kind(),
                    t.size()
                )));
            }
            Ok(t.f_to_device(device)?.f_detach()?)
        };
        let mut layers = Vec::new();
        for spec in layer_specs(arch) {
            let weight = take(format!("{}.weight", spec.name), &spec.weight_shape())?;
            let bias = take(format!("{}.bias", spec.name), &[spec.out_channels])?;
            layers.push(Layer { spec, weight, bias });
        }
        let codebook_shape = [arch.num_codes as i64, arch.latent_dim as i64];
        let codebook = take(CODEBOOK.to_string(), &codebook_shape)?;
        Ok(VqVae {
            arch: arch.clone(),
            layers,
            codebook,
        })
    }

    pub(crate) fn architecture(&self) -> &Architecture {
        &self.arch
    }

    /// Every parameter by name, in a fixed order (the codebook last).
    pub(crate) fn named_tensors(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::with_capacity(2 * self.layers.len() + 1);
        for layer in &self.layers {
            out.push((format!("{}.weight", layer.spec.name), &layer.weight));
            out.push((format!("{}.bias", layer.spec.name), &layer.bias));
        }
        out.push((CODEBOOK.to_string(), &self.codebook));
        out
    }

    /// The parameters that learn by gradient (after [`set_trainable`](Self::set_trainable)).
    pub(crate) fn trainable_tensors(&self) -> Vec<(String, &Tensor)> {
        let mut all = self.named_tensors();
        all.retain(|(_, t)| t.requires_grad());
        all
    }

    /// Overwrites every parameter with the tensor `lookup` gives for its name.
    pub(crate) fn load_values(&self, lookup: &dyn Fn(&str) -> Result<Tensor>) -> Result<()> {
        let _guard = tch::no_grad_guard();
        for (name, tensor) in self.named_tensors() {
            let value = lookup(&name)?;
            if value.size() != tensor.size() {
                return Err(ModelError::Input(format!(
                    "tensor `{name}` is {:?}, expected {:?}",
                    value.size(),
                    tensor.size()
                )));
            }
            tensor.shallow_clone().f_copy_(&value)?;
        }
        Ok(())
    }

    /// Switches gradient tracking on for the convolutions and, when the codebook learns
    /// by gradient, for the codebook.
    pub(crate) fn set_trainable(&mut self, codebook_by_gradient: bool) {
        for layer in &mut self.layers {
            layer.weight = layer.weight.set_requires_grad(true);
            layer.bias = layer.bias.set_requires_grad(true);
        }
        self.codebook = self.codebook.set_requires_grad(codebook_by_gradient);
    }

    /// Encoder outputs `[N, D, h, w]` of shifted pixels `[N, 1, S, S]`.
    pub(crate) fn encode(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.layers[0].forward(x)?;
        for layer in &self.layers[1..3] {
            h = layer.forward(&h)?;
        }
        Ok(h)
    }

    /// Reconstruction `[N, 1, S, S]` (shifted) of quantised latents `[N, D, h, w]`.
    pub(crate) fn decode(&self, z: &Tensor) -> Result<Tensor> {
        let mut h = self.layers[3].forward(z)?;
        for layer in &self.layers[4..] {
            h = layer.forward(&h)?;
        }
        Ok(h)
    }

    /// Flattens encoder outputs to rows and finds each row's nearest code
    /// (squared Euclidean distance, lowest index on ties).
    pub(crate) fn assign(&self, z: &Tensor) -> Result<Encoded> {
        let d = self.arch.latent_dim as i64;
        let flat = z.f_permute([0, 2, 3, 1])?.f_reshape([-1, d])?;
        let codes = nearest_codes(&flat.f_detach()?, &self.codebook.f_detach()?)?;
        Ok(Encoded { flat, codes })
    }

    /// Code rows `[M, D]` back to a latent grid `[N, D, h, w]`.
    pub(crate) fn to_grid(&self, rows: &Tensor) -> Result<Tensor> {
        let g = self.arch.grid_side() as i64;
        let d = self.arch.latent_dim as i64;
        Ok(rows.f_view([-1, g, g, d])?.f_permute([0, 3, 1, 2])?)
    }
}

/// Index of the nearest row of `codebook` `[K, D]` for each row of `rows` `[M, D]`.
pub(crate) fn nearest_codes(rows: &Tensor, codebook: &Tensor) -> Result<Tensor> {
    let row_norms = rows
        .f_square()?
        .f_sum_dim_intlist(1i64, true, Kind::Float)?;
    let code_norms = codebook
        .f_square()?
        .f_sum_dim_intlist(1i64, false, Kind::Float)?;
    let cross = rows.f_mm(&codebook.f_transpose(0, 1)?)?;
    let distances = (row_norms + code_norms).f_sub(&(cross * 2.0))?;
    Ok(distances.f_argmin(1, false)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Preset, TrainConfig};
    use rand::SeedableRng;

    #[test]
    fn a_64_pixel_cutout_goes_to_a_16x16_grid_of_d_vectors_and_back() {
        let arch = TrainConfig::preset(Preset::Baseline).architecture;
        let net = VqVae::init(&arch, &mut ChaCha8Rng::seed_from_u64(0), Device::Cpu).unwrap();
        let x = Tensor::f_rand([3, 1, 64, 64], (Kind::Float, Device::Cpu)).unwrap();
        let z = net.encode(&x).unwrap();
        assert_eq!(z.size(), [3, 16, 16, 16]);
        let encoded = net.assign(&z).unwrap();
        assert_eq!(encoded.flat.size(), [3 * 256, 16]);
        assert_eq!(encoded.codes.size(), [3 * 256]);
        let rows = net.codebook.f_index_select(0, &encoded.codes).unwrap();
        assert_eq!(
            net.decode(&net.to_grid(&rows).unwrap()).unwrap().size(),
            [3, 1, 64, 64]
        );
    }

    /// libtorch's own transposed convolution with TensorFlow's "same" padding, the
    /// reference for the CPU rewrite.
    fn reference_conv_transpose(layer: &Layer, x: &Tensor) -> Tensor {
        let s = &layer.spec;
        let out = x.size()[2] * s.stride;
        let (before, after) = same_padding(out, s.kernel, s.stride);
        // Symmetric padding crops inside the kernel; otherwise crop the full output.
        let (padding, first) = if before == after {
            (before, 0)
        } else {
            (0, before)
        };
        let y = x
            .conv_transpose2d(
                &layer.weight,
                Some(&layer.bias),
                [s.stride; 2],
                [padding; 2],
                [0, 0],
                1,
                [1, 1],
            )
            .narrow(2, first, out)
            .narrow(3, first, out);
        if s.relu {
            y.relu()
        } else {
            y
        }
    }

    #[test]
    fn the_cpu_decoder_rewritten_as_convolutions_matches_the_transposed_convolution() {
        let arch = TrainConfig::preset(Preset::Baseline).architecture;
        let mut net = VqVae::init(&arch, &mut ChaCha8Rng::seed_from_u64(1), Device::Cpu).unwrap();
        let mut x = Tensor::f_rand([4, 16, 16, 16], (Kind::Float, Device::Cpu)).unwrap();
        // Every decoder layer in turn, with non-zero biases (keras starts them at zero).
        for layer in &mut net.layers[3..] {
            layer.bias = Tensor::f_rand_like(&layer.bias).unwrap() - 0.5;
            let weight = layer.weight.detach().set_requires_grad(true);
            layer.weight = weight.shallow_clone();
            let ours = layer.forward(&x).unwrap();
            let reference = reference_conv_transpose(layer, &x);
            let name = layer.spec.name;
            assert_eq!(ours.size(), reference.size(), "{name}");
            let worst = (&ours - &reference).abs().max().double_value(&[]);
            assert!(worst < 1e-5, "{name}: largest difference {worst}");
            // The gradient reaching the weights is the transposed convolution's too.
            let probe = Tensor::f_rand_like(&ours).unwrap();
            let grads = |y: &Tensor| {
                Tensor::run_backward(&[(y * &probe).sum(Kind::Float)], &[&weight], false, false)
            };
            let (ours_grad, reference_grad) = (grads(&ours), grads(&reference));
            let worst = (&ours_grad[0] - &reference_grad[0])
                .abs()
                .max()
                .double_value(&[]);
            assert!(worst < 1e-3, "{name}: largest gradient difference {worst}");
            x = ours.detach();
        }
    }

    #[test]
    fn forward_flops_count_every_layer_of_the_64_pixel_network() {
        let arch = TrainConfig::preset(Preset::Baseline).architecture;
        // By hand: conv1 32x32 outputs x 2*9*1*32, conv2 16x16 x 2*9*32*64, conv3 16x16
        // x 2*64*16, distances 16x16 x 2*16*128, deconv1 16x16 inputs x 2*9*16*64,
        // deconv2 32x32 x 2*9*64*32, deconv3 64x64 x 2*9*32*1.
        let expected = 1024 * 576
            + 256 * 36_864
            + 256 * 2_048
            + 256 * 4_096
            + 256 * 18_432
            + 1024 * 36_864
            + 4096 * 576;
        assert_eq!(forward_flops(&arch), expected);
    }

    #[test]
    fn the_nearest_code_is_found_by_euclidean_distance() {
        let codebook = Tensor::from_slice(&[0.0f32, 0.0, 1.0, 1.0, -2.0, 0.5]).view([3, 2]);
        let rows = Tensor::from_slice(&[0.9f32, 1.2, -1.5, 0.3, 0.1, -0.1]).view([3, 2]);
        let codes = Vec::<i64>::try_from(nearest_codes(&rows, &codebook).unwrap()).unwrap();
        assert_eq!(codes, [1, 2, 0]);
    }

    #[test]
    fn initial_weights_follow_keras_initialisers() {
        let arch = TrainConfig::preset(Preset::Baseline).architecture;
        let net = VqVae::init(&arch, &mut ChaCha8Rng::seed_from_u64(0), Device::Cpu).unwrap();
        let tensors = net.named_tensors();
        let max_abs = |name: &str| {
            let t = tensors.iter().find(|(n, _)| n == name).unwrap().1;
            t.abs().max().double_value(&[])
        };
        // Glorot bound for conv2: sqrt(6 / ((32 + 64) * 9)).
        let limit = (6.0f64 / (96.0 * 9.0)).sqrt();
        assert!(
            max_abs("encoder.conv2.weight") <= limit
                && max_abs("encoder.conv2.weight") > 0.9 * limit
        );
        assert_eq!(max_abs("encoder.conv2.bias"), 0.0);
        assert!(max_abs(CODEBOOK) <= 0.05 && max_abs(CODEBOOK) > 0.045);
    }

    #[test]
    fn same_padding_puts_the_odd_pixel_after_as_tensorflow_does() {
        assert_eq!(same_padding(64, 3, 2), (0, 1));
        assert_eq!(same_padding(64, 3, 1), (1, 1));
        assert_eq!(same_padding(16, 1, 1), (0, 0));
        assert_eq!(same_padding(5, 3, 2), (1, 1));
    }
}
