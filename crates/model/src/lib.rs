//! The VQ-VAE on libtorch (tch): training, checkpoints and anomaly scores (NCC, MSE, code rarity).
