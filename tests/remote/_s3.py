"""A test's S3 bucket on moto, as the remote tests see it."""

from __future__ import annotations

import attrs


@attrs.frozen
class S3:
    """One test's bucket on moto, and the s3fs filesystem batchkit gets for s3:// URLs."""

    fs: object
    bucket: str
    endpoint: str

    def url(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{key}"

    def put(self, key: str, data: bytes) -> None:
        self.fs.pipe_file(f"{self.bucket}/{key}", data)  # type: ignore[attr-defined]

    def get(self, key: str) -> bytes:
        data: bytes = self.fs.cat_file(f"{self.bucket}/{key}")  # type: ignore[attr-defined]
        return data

    def keys(self, prefix: str = "") -> list[str]:
        found = self.fs.find(f"{self.bucket}/{prefix}")  # type: ignore[attr-defined]
        return sorted(k.removeprefix(f"{self.bucket}/") for k in found)
