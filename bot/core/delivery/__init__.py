"""A finished job on its way back: the coordinator, result files, recovery, housekeeping, acknowledgements, status throttle and leases."""
