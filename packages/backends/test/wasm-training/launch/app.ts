// The entry of the single-file bundle: the whole program in one file.
import { probe } from './probe.js';

console.log(await probe());
