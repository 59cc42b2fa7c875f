"""The answerability calibration: `calibrate` fits the floor and the reader's threshold on the
calibration parts (`python -m eval.calibration.calibrate`) and keeps each answer's outcome in
this folder (extractive.jsonl, local.jsonl); eval/CALIBRATION.md says how and why.
"""
