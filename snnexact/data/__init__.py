"""Datasets: SHD-layout HDF5 loader, transforms, Yin-Yang and Randman generators."""
