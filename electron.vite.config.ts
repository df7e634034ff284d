import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

// main: three entries from one build. core: the console core (every service), run in its own process by the other
// two; index: the Electron shell, which forks core as a utilityProcess; headless: the same without a window, which
// forks core as a child process. Each is its own output file (out/main/<name>.js); index never imports the core's
// modules, so the window's process does not even load them.
// preload: CommonJS, because a sandboxed preload cannot be an ES module.
export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve('src/main/index.ts'),
          headless: resolve('src/main/headless.ts'),
          core: resolve('src/main/core.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('src/renderer'),
    build: {
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
    plugins: [react()],
  },
});
