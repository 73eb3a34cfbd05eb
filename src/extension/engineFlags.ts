// The node flags of engine processes (the server the extension forks, and the CLI it runs), apart from
// the VS Code parts of EngineHost so that benchmarks (scripts/bench-label-editor.cjs) start the engine
// exactly as the extension does.
export function engineExecArgv(maxMemoryMB: number): string[] {
  return [`--max-old-space-size=${maxMemoryMB}`];
}
