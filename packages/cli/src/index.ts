export { type CliIO, main, usage } from './main.js';
