"""pyrunc: an OCI container runtime that stands in for runc."""

__version__ = "0.1.0"

# The version of the OCI runtime specification this runtime implements.
SPEC_VERSION = "1.2.0"
