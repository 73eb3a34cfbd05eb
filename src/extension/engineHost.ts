// The VS Code side of the engine: builds EngineClient options from settings and workspace trust, logs
// to an OutputChannel, tells the user when the engine crashed or was restarted, and turns EngineErrors
// into readable messages. Everything tensor-shaped happens in the child process.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { EngineClient, EngineError } from './engineClient';
import { readSettings } from './config';
import { engineExecArgv } from './engineFlags';

export class EngineHost implements vscode.Disposable {
  readonly output: vscode.OutputChannel;
  private client: EngineClient;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('ProtoLab Engine');
    this.client = this.create();
    // Settings that change how the process is started take effect on the next (re)start.
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('protolab.engine') || e.affectsConfiguration('protolab.cacheDir')) {
          this.log('engine settings changed: they apply after ProtoLab: Restart Engine');
        }
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.log('workspace trusted: restarting the engine so user-configured paths apply');
        void this.restart();
      }),
    );
  }

  get engine(): EngineClient {
    return this.client;
  }

  log(line: string): void {
    this.output.appendLine(`${new Date().toISOString().slice(11, 23)} ${line}`);
  }

  /** Paths of the bundled engine (dist/engine). */
  private enginePaths(): { server: string; wasmDir: string; cli: string } {
    const dist = path.join(this.ctx.extensionPath, 'dist', 'engine');
    return { server: path.join(dist, 'server.js'), wasmDir: dist, cli: path.join(dist, 'cli.js') };
  }

  get cliPath(): string {
    return this.enginePaths().cli;
  }

  /** node binary and flags for engine processes (the server and the CLI alike). */
  processOptions(): { execPath?: string; execArgv: string[]; env: Record<string, string | undefined> } {
    const s = readSettings();
    const trusted = vscode.workspace.isTrusted;
    const cacheDir = s.cacheDir ?? path.join(this.ctx.globalStorageUri.fsPath, 'cache');
    const p = this.enginePaths();
    const nodePath = trusted ? vscode.workspace.getConfiguration('protolab').get<string>('engine.nodePath')?.trim() : undefined;
    return {
      execPath: nodePath || undefined,
      execArgv: engineExecArgv(s.engineMemoryMB),
      env: {
        // In the desktop extension host process.execPath is Electron: run it as plain node.
        ELECTRON_RUN_AS_NODE: '1',
        PROTOLAB_BACKEND: s.backend === 'auto' ? undefined : s.backend,
        PROTOLAB_INFERENCE: s.inference === 'auto' ? undefined : s.inference,
        PROTOLAB_CACHE_DIR: cacheDir,
        PROTOLAB_MAX_PIXELS: String(s.maxImagePixels),
        PROTOLAB_WASM_DIR: fs.existsSync(path.join(p.wasmDir, 'tfjs-backend-wasm-simd.wasm')) ? p.wasmDir : undefined,
        // user-supplied code: only in a trusted workspace
        PROTOLAB_TFJS_NODE_PATH: trusted ? s.tfjsNodePath : undefined,
        // weights only (sha256-checked before they load), so untrusted workspaces may use them too
        PROTOLAB_CENTERNET_DIR: s.centernetPath,
      },
    };
  }

  private create(): EngineClient {
    const o = this.processOptions();
    const c = new EngineClient({
      serverPath: this.enginePaths().server,
      execPath: o.execPath,
      execArgv: o.execArgv,
      env: o.env,
      log: (l) => this.log(l),
    });
    c.on('crashed', (msg: string) => {
      void vscode.window.showWarningMessage(`ProtoLab: ${msg}. Running requests were stopped; a fresh engine is starting.`, 'Show Engine Log').then((a) => {
        if (a) this.output.show(true);
      });
    });
    c.on('started', (h: { backend: string; backendReasons: string[] }) => {
      if (h.backend === 'cpu') {
        void vscode.window.showWarningMessage('ProtoLab: the engine runs on the plain JavaScript cpu backend (slow). See the engine log for why faster backends were passed over.', 'Show Engine Log').then((a) => {
          if (a) this.output.show(true);
        });
      }
    });
    return c;
  }

  /** Stop the engine and start a fresh one with the current settings. */
  async restart(): Promise<void> {
    const old = this.client;
    await old.stop();
    old.removeAllListeners();
    this.client = this.create(); // users of `engine` read it per call, so they get the new one
    await this.client.start();
  }

  async dispose(): Promise<void> {
    this.disposables.forEach((d) => d.dispose());
    await this.client.stop().catch(() => this.client.killNow());
    this.output.dispose();
  }
}

/** A message for the user: engine error kinds mapped to what to do about them. */
export function describeError(e: unknown): string {
  if (e instanceof EngineError) {
    switch (e.kind) {
      case 'data':
        return `${e.message}${e.file && !e.message.includes(e.file) ? ` (${e.file})` : ''}`;
      case 'usage':
        return e.message;
      case 'cancelled':
        return 'cancelled';
      case 'restarted':
        return `${e.message}. Try again; if it keeps happening, see ProtoLab: Show Engine Log (out of memory? raise protolab.engine.maxMemoryMB).`;
      case 'stopped':
        return 'the engine was stopped';
      default:
        return `engine ${e.kind} error: ${e.message.split('\n')[0]}`;
    }
  }
  return e instanceof Error ? e.message : String(e);
}
