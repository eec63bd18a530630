/**
 * scoped-edge Worker: an OpenAI-compatible chat proxy that keeps PROVIDER_KEY at the edge.
 *
 *   POST /v1/chat/completions  forwarded to PROVIDER_BASE_URL with the key (streaming passed through)
 *   GET  /health               {"status": "ok", "version": VERSION}
 *
 * See app.ts for the request pipeline and defaults.ts for the bindings and vars.
 */
import { createWorker } from "./app";

export default createWorker();
