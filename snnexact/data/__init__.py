"""Datasets: SHD-layout HDF5 loader, transforms, Yin-Yang and Randman generators.

All data sets share one interface: ``len(ds)``, ``ds[i]`` -> :class:`Sample` ``(times, units,
label, index)`` with float64 times sorted by (time, unit) and int64 units, iteration,
``.labels``, ``.n_channels``, ``.n_classes``.
"""
from snnexact.data.info import DatasetInfo, dataset_info, save_raster
from snnexact.data.randman import randman
from snnexact.data.shd import SHDDataset, Sample, SpikeDataset, sort_events
from snnexact.data.transforms import (Bin, ChannelShift, Compose, Crop, MaxSpikes, PoolChannels,
                                      TiedEvents, TimeJitter, TimeScale, tied_events)
from snnexact.data.yinyang import YinYangArrays, YinYangDataset, encode_yinyang, yinyang

__all__ = ["Bin", "ChannelShift", "Compose", "Crop", "DatasetInfo", "MaxSpikes", "PoolChannels",
           "SHDDataset", "Sample", "SpikeDataset", "TiedEvents", "TimeJitter", "TimeScale",
           "YinYangArrays", "YinYangDataset", "dataset_info", "encode_yinyang", "tied_events",
           "randman", "save_raster", "sort_events", "yinyang"]
