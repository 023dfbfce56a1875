"""What every layer shares and nothing OpenPose-specific: the person record, keypoint
layouts as data (layout), the estimator protocol the runs depend on (estimator), errors
and exit codes, atomic files and locks, where weights live (paths), argument checks,
signals and quieting native logs."""
