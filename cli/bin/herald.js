#!/usr/bin/env node
// The `herald` binary: a file that exists before the build, so `npm ci` links it into
// node_modules/.bin on a fresh clone (npm skips a bin whose target is missing); it runs the
// built command line.
import '../dist/main.js'
