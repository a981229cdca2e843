"""The study's VQ-VAE in Python PyTorch: the alternative Prospector's model is measured
against (`prospector bench`, crates/bench/src/vqvae.rs, runs both side by side).

Same network as prospector-model (the keras-io example: TensorFlow "same" padding,
Glorot-uniform kernels, zero biases, a codebook uniform in [-0.05, 0.05]), the same loss
(MSE / training variance + codebook + 0.25 * commitment, straight-through), Adam with
keras's epsilon, batches of 256 in a seeded shuffled order. The data path is included:
the cutout set is read from its safetensors file, and scoring computes NCC and MSE per
cutout and brings codes back to the host, as the Rust scorer does.

Prints one JSON line: images per second for training and scoring, the seconds spent
reading, training and scoring (the best of --repeats passes), and the peak resident set
size.
"""

import argparse
import json
import os
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file


def peak_rss_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def same_padding(n, kernel, stride):
    out = (n + stride - 1) // stride
    total = max((out - 1) * stride + kernel - n, 0)
    return total // 2, total - total // 2


class VqVae(torch.nn.Module):
    # (name, transposed, in, out, kernel, stride, relu)
    LAYERS = [
        ("encoder.conv1", False, 1, 32, 3, 2, True),
        ("encoder.conv2", False, 32, 64, 3, 2, True),
        ("encoder.conv3", False, 64, "D", 1, 1, False),
        ("decoder.deconv1", True, "D", 64, 3, 2, True),
        ("decoder.deconv2", True, 64, 32, 3, 2, True),
        ("decoder.deconv3", True, 32, 1, 3, 1, False),
    ]

    def __init__(self, latent_dim=16, num_codes=128):
        super().__init__()
        self.specs = []
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for name, transposed, cin, cout, k, s, relu in self.LAYERS:
            cin = latent_dim if cin == "D" else cin
            cout = latent_dim if cout == "D" else cout
            shape = (cin, cout, k, k) if transposed else (cout, cin, k, k)
            limit = (6.0 / ((cin + cout) * k * k)) ** 0.5
            self.weights.append(torch.nn.Parameter(torch.empty(shape).uniform_(-limit, limit)))
            self.biases.append(torch.nn.Parameter(torch.zeros(cout)))
            self.specs.append((transposed, k, s, relu))
        self.codebook = torch.nn.Parameter(torch.empty(num_codes, latent_dim).uniform_(-0.05, 0.05))
        self.latent_dim = latent_dim

    def layer(self, i, x):
        transposed, k, s, relu = self.specs[i]
        w, b = self.weights[i], self.biases[i]
        n = x.shape[-1]
        if not transposed:
            before, after = same_padding(n, k, s)
            if before == after:
                y = F.conv2d(x, w, b, stride=s, padding=before)
            else:
                y = F.conv2d(F.pad(x, (before, after, before, after)), w, b, stride=s)
        else:
            out = n * s
            before, after = same_padding(out, k, s)
            if before == after:
                y = F.conv_transpose2d(x, w, b, stride=s, padding=before)
            else:
                y = F.conv_transpose2d(x, w, b, stride=s)[:, :, before:before + out, before:before + out]
        return F.relu(y) if relu else y

    def encode(self, x):
        for i in range(3):
            x = self.layer(i, x)
        return x

    def decode(self, z):
        for i in range(3, 6):
            z = self.layer(i, z)
        return z

    def quantise(self, z):
        n, d, h, w = z.shape
        rows = z.permute(0, 2, 3, 1).reshape(-1, d)
        distances = (
            rows.detach().pow(2).sum(1, keepdim=True)
            + self.codebook.detach().pow(2).sum(1)
            - 2 * rows.detach() @ self.codebook.detach().t()
        )
        codes = distances.argmin(1)
        chosen = self.codebook.index_select(0, codes)
        return rows, chosen, codes

    def to_grid(self, rows, n):
        g = int(round((rows.shape[0] // n) ** 0.5))
        return rows.view(n, g, g, self.latent_dim).permute(0, 3, 1, 2)


def ncc_rows(a, b):
    def standardise(t):
        t = t.double()
        centred = t - t.mean(1, keepdim=True)
        std = centred.pow(2).mean(1, keepdim=True).sqrt()
        defined = std > 1e-9
        return centred / torch.where(defined, std, torch.ones_like(std)), defined

    sa, da = standardise(a)
    sb, db = standardise(b)
    defined = (da & db).view(-1)
    values = (sa * sb).mean(1)
    return torch.where(defined, values, torch.zeros_like(values)), defined


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cutouts", required=True, help="cutout set folder")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--score-batch", type=int, help="scoring batch (default: --batch)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="scoring passes (best is kept)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    start = time.perf_counter()
    pixels = load_file(os.path.join(args.cutouts, "cutouts.safetensors"))["pixels"]
    n, side, _ = pixels.shape
    read_s = time.perf_counter() - start
    variance = pixels.double().var(unbiased=False).item()

    model = VqVae()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    generator = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.randperm(n, generator=generator)
        for first in range(0, n, args.batch):
            x = pixels[order[first:first + args.batch]].unsqueeze(1) - 0.5
            rows, chosen, codes = model.quantise(model.encode(x))
            commitment = (rows - chosen.detach()).pow(2).mean()
            codebook = (chosen - rows.detach()).pow(2).mean()
            straight = rows + (chosen - rows).detach()
            recon = model.decode(model.to_grid(straight, x.shape[0]))
            loss = (recon - x).pow(2).mean() / variance + codebook + 0.25 * commitment
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            torch.bincount(codes, minlength=128).tolist()
            loss.item()
    train_s = time.perf_counter() - start

    # Scoring is timed best of --repeats passes: the machine is shared and noisy.
    score_batch = args.score_batch or args.batch
    score_s = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        scored = 0
        with torch.inference_mode():
            for first in range(0, n, score_batch):
                x = pixels[first:first + score_batch].unsqueeze(1) - 0.5
                rows, chosen, codes = model.quantise(model.encode(x))
                recon = model.decode(model.to_grid(chosen, x.shape[0]))
                flat_x, flat_r = x.reshape(x.shape[0], -1), recon.reshape(x.shape[0], -1)
                ncc, defined = ncc_rows(flat_x, flat_r)
                mse = (flat_x - flat_r).pow(2).double().mean(1)
                # Bring the scores to the host as arrays, as the Rust scorer returns Vecs.
                scores = (ncc.numpy(), defined.numpy(), mse.numpy(), codes.view(x.shape[0], -1).numpy())
                scored += len(scores[0])
        score_s = min(score_s, time.perf_counter() - start)
        assert scored == n

    print(json.dumps({
        "implementation": f"PyTorch {torch.__version__} (Python)",
        "images": n,
        "epochs": args.epochs,
        "read_s": read_s,
        "train_s": train_s,
        "score_s": score_s,
        "train_images_per_s": n * args.epochs / (read_s + train_s),
        "score_images_per_s": n / (read_s + score_s),
        "peak_rss_bytes": peak_rss_bytes(),
    }))


if __name__ == "__main__":
    main()
