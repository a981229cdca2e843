//! PyBDSF-style source finding: background and rms maps, islands, per-island measurements, cutouts and tiling.
