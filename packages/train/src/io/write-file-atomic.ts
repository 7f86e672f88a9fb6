export { writeFileAtomic } from '@ebmjs/contract/node';
