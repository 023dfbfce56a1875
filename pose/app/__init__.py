"""The runs: images (the image tool), video (one video, camera or stream), timeline (the
picture of who did what when) and batch (many videos on local workers or Ray). They tie
an estimator (any family, through pose.core.estimator's protocol) to analysis and I/O."""
