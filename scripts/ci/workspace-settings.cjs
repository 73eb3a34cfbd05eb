#!/usr/bin/env node
// Prints the .vscode/settings.json that points ProtoLab at the built-in sample dataset
// (written by `protolab sample --out DIR`: DIR/VOCdevkit/VOC2012 and DIR/coco).
// Usage: node scripts/ci/workspace-settings.cjs WORKSPACE [--ci]
//   The sample is WORKSPACE/sample if that exists, else WORKSPACE itself (npm run studio opens ./sample).
//   Paths are written relative to the workspace (ProtoLab resolves them against it).
//   --ci: a short evaluation (the code-server test has a time budget).
'use strict';
const fs = require('fs');
const path = require('path');

const ws = path.resolve(process.argv[2] || '.');
const ci = process.argv.includes('--ci');
const data = fs.existsSync(path.join(ws, 'sample', 'VOCdevkit')) ? 'sample' : '.';
const rel = (...p) => path.posix.join(data, ...p);
const settings = {
  'protolab.datasets': [
    { name: 'Sample (VOC format)', path: rel(), kind: 'voc' },
    { name: 'Sample (COCO format)', path: rel('coco'), kind: 'coco' },
  ],
  'protolab.defaults.ways': 1,
  'protolab.defaults.shots': 1,
  'protolab.eval.episodes': ci ? 8 : 100,
  'protolab.eval.runs': 1,
  ...(ci ? { 'protolab.defaults.size': 160 } : {}),
};
process.stdout.write(JSON.stringify(settings, null, 2) + '\n');
