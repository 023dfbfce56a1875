"""Everything that touches files, windows and the user's inputs: reading images and
videos (inputs), drawing (render), JSON formats (formats), atomic writers (writers),
windows (display), and the image and video runs that tie them to an estimator."""
