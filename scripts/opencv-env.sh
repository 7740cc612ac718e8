# Sourced by setup.sh and deploy.sh: how @u4/opencv4nodejs builds here.
# Its own auto-build downloads OpenCV sources, which this kind of machine
# cannot do: compile the binding against Debian's OpenCV instead.
export OPENCV4NODEJS_DISABLE_AUTOBUILD=1
export OPENCV_INCLUDE_DIR=/usr/include/opencv4
export OPENCV_LIB_DIR=/usr/lib/x86_64-linux-gnu
export OPENCV_BIN_DIR=/usr/bin
# node-gyp cannot download Node's headers here; Debian's node ships them.
if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
# node-gyp compiles the binding on one core unless told: use every core.
export JOBS="${JOBS:-max}"
