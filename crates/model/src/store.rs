//! Files on disk: named tensors as safetensors, JSON documents, written so that a crash
//! never leaves half a file under the final name, and the content hash that identifies
//! a set of weights.

use crate::error::{io_error, ModelError, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// `path` with `.tmp` appended: where a file is written before it is renamed into place.
fn temporary(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

fn bad_file(path: &Path, reason: impl std::fmt::Display) -> ModelError {
    ModelError::BadFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Writes named tensors (on any device) to a safetensors file.
pub(crate) fn write_tensors(path: &Path, tensors: &[(String, &Tensor)]) -> Result<()> {
    let on_cpu = tensors
        .iter()
        .map(|(name, t)| {
            Ok((
                name.as_str(),
                t.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let tmp = temporary(path);
    Tensor::write_safetensors(&on_cpu, &tmp).map_err(|e| bad_file(path, e))?;
    fs::rename(&tmp, path).map_err(io_error(path))
}

/// Reads every tensor of a safetensors file, by name, onto the CPU.
pub(crate) fn read_tensors(path: &Path) -> Result<BTreeMap<String, Tensor>> {
    let tensors = Tensor::read_safetensors(path).map_err(|e| bad_file(path, e))?;
    Ok(tensors.into_iter().collect())
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| bad_file(path, e))?;
    let tmp = temporary(path);
    fs::write(&tmp, text).map_err(io_error(&tmp))?;
    fs::rename(&tmp, path).map_err(io_error(path))
}

pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).map_err(io_error(path))?;
    serde_json::from_str(&text).map_err(|e| bad_file(path, e))
}

/// SHA-256 over named float tensors: for each, in name order, the name, a zero byte, the
/// shape as little-endian u64s and the values as little-endian f32. Independent of the
/// file's layout, so it names the weights, not the file.
pub(crate) fn content_hash(tensors: &[(String, &Tensor)]) -> Result<String> {
    let mut sorted: Vec<&(String, &Tensor)> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut hasher = Sha256::new();
    for (name, tensor) in sorted {
        hasher.update(name.as_bytes());
        hasher.update([0u8]);
        for dim in tensor.size() {
            hasher.update((dim as u64).to_le_bytes());
        }
        let values = Vec::<f32>::try_from(tensor.f_to_kind(Kind::Float)?.f_reshape([-1])?)?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        hasher.update(&bytes);
    }
    Ok(hex::encode(hasher.finalize()))
}
