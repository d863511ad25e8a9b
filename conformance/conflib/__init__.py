"""Library of the OCI runtime-spec conformance suite: bundles, runtimes, report."""
