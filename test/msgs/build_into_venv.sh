#!/usr/bin/env bash
# Builds vision_msgs (our LabelInfo and VisionClass: it has no wheel) into a venv holding the
# ROS 2 wheels, as colcon would into an install space: the venv is the prefix, so its python
# imports the messages and finds their libraries in <venv>/lib. A ROS install has the real
# package through rosdep; colcon and rosdep never see this one (they do not look inside a
# package, here deeplab_ros).
# Usage: build_into_venv.sh VENV. Needs cmake and a C/C++ compiler (apt-get install cmake g++).
set -euo pipefail
venv=$(cd "$1" && pwd)
for tool in cmake cc c++; do
    command -v "$tool" >/dev/null || { echo "$0: $tool not found (apt-get install cmake g++)" >&2; exit 1; }
done
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
# Only the venv's packages, even in a shell that sourced a ROS install.
export AMENT_PREFIX_PATH=$venv CMAKE_PREFIX_PATH=$venv PATH=$venv/bin:$PATH
started=$(date +%s)
if ! { cmake -S "$(dirname "$0")/vision_msgs" -B "$build" -DCMAKE_INSTALL_PREFIX="$venv" \
           -DPython3_EXECUTABLE="$venv/bin/python" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
       && cmake --build "$build" --parallel "$(nproc)" \
       && cmake --install "$build"; } >"$build/log" 2>&1; then
    tail -n 40 "$build/log" >&2
    echo "$0: building vision_msgs into $venv failed (the end of its log is above)" >&2
    exit 1
fi
echo "vision_msgs built into $venv in $(($(date +%s) - started)) s"
