export { crc32, crc32Hex } from '@ebmjs/contract';
