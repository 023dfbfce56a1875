"""Many videos in one run of the video tool: sources, resume, workers and the manifest.

    get_hpe_video.py --video_file clips/ more/*.mp4 @list.txt --recursive --workers 2

- **Sources.** Files, folders (their videos; `--recursive` for subfolders, whose layout is
  kept below the output folder), quoted globs and `@list.txt` (one path per line,
  relative to the list's folder). Each video's outputs are those of a single run.
- **Workers.** Each worker loads the model once and takes one video at a time, the
  longest first, so the last videos to finish are short ones and no worker idles
  behind a long tail. Local workers are threads (1) or processes (more), each with its
  share of the cores for inference; pose.app.batch.ray_pool puts them on a Ray cluster.
  Workers only compute and write a video's outputs; the driver (this process) keeps the
  progress bar and the manifest, so nothing but the outputs crosses machines.
- **Manifest.** `manifest.jsonl` in the mode's output folder, one JSON record per
  video: where it came from, what was written, how it went, and with which model and
  options. It is rewritten atomically after each video (the records' text is kept, so
  a rewrite is a join and a write).
- **Resume.** A video whose record says done, with the same model and options, whose
  source has not changed and whose outputs are all there at their recorded sizes, is
  skipped; `--overwrite` redoes it. Outputs appear only by atomic rename, so a killed
  run leaves temporary files at worst, and those are removed when the video is redone.
- **Concurrency.** A worker claims a video's outputs (pose.io.writers.claim_outputs: a
  lock, and a killed run's temporary files cleared) before loading the video; run_video
  holds them while it writes. A second run, batch or single-video, aimed at the same
  outputs is refused with one line, and leaves the video's record to the run that has it.

Modules, in the order data flows: `jobs` (sources -> jobs), `manifest` (records and the
run's identity), `worker` (one model, video after video), `events` (what workers tell
the driver), `local_pool` and `ray_pool` (where workers run), `driver` (the plan, the
progress bar and the records).
"""
