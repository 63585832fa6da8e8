// The raw HTTP client under its old module name: it lives in tests/lib/http.mjs.
export { raw, rawUpgrade } from '../lib/http.mjs';
