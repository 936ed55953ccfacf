#!/usr/bin/env python3
"""Times pyroomacoustics' hybrid RIR (ISM order 10 + ray tracing) for the 6x5x3 m shoebox that
`avwm bench sim` also times, so both numbers come from the same machine in the same run.

Setup as in shared/reference/acoustics.md section 1.2: fs = 16 kHz, air absorption on, 7 octave
bands, scattering 0.1, ceiling plasterboard, carpet floor, plasterboard/glass/wood walls, source
(4.5, 3.5, 1.2), two microphones 18 cm apart at (1.5, 1.8, 1.5).

Prints one JSON object: {"available": bool, "median_ms": float, "min_ms": float, "runs": int}.
"""
import json
import sys
import time


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    try:
        import numpy as np
        import pyroomacoustics as pra
    except Exception as exc:  # not installed: report and succeed
        print(json.dumps({"available": False, "reason": str(exc)}))
        return 0

    def build():
        mats = {
            "ceiling": pra.Material("ceiling_plasterboard", 0.1),
            "floor": pra.Material("carpet_cotton", 0.1),
            "east": pra.Material("plasterboard", 0.1),
            "west": pra.Material("plasterboard", 0.1),
            "north": pra.Material("glass_window", 0.1),
            "south": pra.Material("wooden_door", 0.1),
        }
        room = pra.ShoeBox([6, 5, 3], fs=16000, materials=mats, max_order=10,
                           air_absorption=True, ray_tracing=True)
        room.set_ray_tracing(receiver_radius=0.5)
        room.add_source([4.5, 3.5, 1.2])
        room.add_microphone_array(np.array([[1.5, 1.5], [1.71, 1.89], [1.5, 1.5]]))
        return room

    times = []
    for _ in range(runs):
        room = build()
        t = time.perf_counter()
        room.compute_rir()
        times.append((time.perf_counter() - t) * 1000.0)
    times.sort()
    print(json.dumps({"available": True, "median_ms": times[len(times) // 2],
                      "min_ms": times[0], "runs": runs, "version": pra.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
