"""batchkit: one provider-neutral API for batches at Instabase AI Hub and Scale AI."""

__version__ = "0.1.0"
