/// <reference lib="webworker" />
/** The engine Web Worker: one `Engine`, served to the page through the typed request loop. */
import { Engine } from './engine';
import type { FromEngine, ToEngine } from './protocol';
import { serveEngine } from './serve';

declare const self: DedicatedWorkerGlobalScope;

const post = (message: FromEngine, transfer: Transferable[] = []) => self.postMessage(message, transfer);
const engine = new Engine(self.navigator.gpu, (event) => post({ type: 'event', event }));
const serve = serveEngine(engine, post);

self.onmessage = (e: MessageEvent<ToEngine>) => void serve(e.data);
