#!/usr/bin/env python3
"""Runs PyBDSF on one image the way the prospector-sources benchmark compares it.

Usage: run-pybdsf.py IMAGE.fits OUTDIR [--beam BMAJ_DEG BMIN_DEG BPA_DEG] [--rms-box SIZE STEP]
                     [--frequency HZ] [--adaptive]

Writes into OUTDIR:
  srl.csv      PyBDSF's source list (csv, as write_catalog writes it)
  rms.fits     the background rms map PyBDSF used (rmsd_I)
  mean.fits    the background mean map (mean_I)
  islands.fits PyBDSF's island mask (1 inside an island, 0 outside)
  run.json     wall time of process_image, box sizes and counts
PyBDSF runs with thresh_isl=3, thresh_pix=5 (its defaults) and quiet output.
"""
import argparse
import json
import os
import sys
import time

import bdsf


def main():
    p = argparse.ArgumentParser()
    p.add_argument("image")
    p.add_argument("outdir")
    p.add_argument("--beam", nargs=3, type=float)
    p.add_argument("--rms-box", nargs=2, type=int)
    p.add_argument("--frequency", type=float, help="Hz, for images without a frequency axis")
    p.add_argument("--adaptive", action="store_true", help="adaptive_rms_box=True")
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    kw = dict(thresh_isl=3.0, thresh_pix=5.0, quiet=True, outdir=a.outdir, ncores=2)
    if a.beam:
        kw["beam"] = tuple(a.beam)
    if a.rms_box:
        kw["rms_box"] = tuple(a.rms_box)
    if a.frequency:
        kw["frequency"] = a.frequency
    if a.adaptive:
        kw["adaptive_rms_box"] = True
    start = time.perf_counter()
    img = bdsf.process_image(a.image, **kw)
    elapsed = time.perf_counter() - start
    srl = os.path.join(a.outdir, "srl.csv")
    if os.path.exists(srl):
        os.remove(srl)
    img.write_catalog(outfile=srl, format="csv", catalog_type="srl", clobber=True)
    img.export_image(outfile=os.path.join(a.outdir, "rms.fits"), img_type="rms", clobber=True)
    img.export_image(outfile=os.path.join(a.outdir, "mean.fits"), img_type="mean", clobber=True)
    img.export_image(outfile=os.path.join(a.outdir, "islands.fits"), img_type="island_mask",
                     mask_dilation=0, clobber=True)
    info = {
        "seconds": elapsed,
        "rms_box": list(img.rms_box),
        "islands": len(img.islands),
        "sources": len(img.sources),
        "gaussians": len(img.gaussians),
        "use_rms_map": bool(img.use_rms_map),
        "mean_map_type": str(img.mean_map_type),
        "clipped_rms": float(img.clipped_rms),
        "clipped_mean": float(img.clipped_mean),
        "minpix_isl": int(img.minpix_isl),
    }
    with open(os.path.join(a.outdir, "run.json"), "w") as f:
        json.dump(info, f, indent=1)
    json.dump(info, sys.stdout)
    print()


if __name__ == "__main__":
    main()
