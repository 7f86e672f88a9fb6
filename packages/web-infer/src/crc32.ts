export { crc32 } from '@ebmjs/contract';
