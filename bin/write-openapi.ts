/** `npm run docs`: writes docs/openapi.json from the route table (a test checks it is current). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../lambdas/api-description';

const target = join(__dirname, '..', 'docs', 'openapi.json');
writeFileSync(target, JSON.stringify(openApiDocument(), null, 2) + '\n');
console.log(`wrote ${target}`);
