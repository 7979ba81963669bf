"""The kernel: framework pieces every module uses. It imports no module."""
