"""bpfbuild: a build system for eBPF programs (compile, verify, emulate, skeletons)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
