import { ServiceLogger, type InvocationContext } from '../lambdas/core/logger';

/** The service logger attaches the invocation's context only when a line is written (lambdas/core/logger.ts). */
const invocation = (requestId: string): InvocationContext =>
  ({
    awsRequestId: requestId,
    functionName: 'skycache-get-entry',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:skycache-get-entry',
    memoryLimitInMB: '1024',
  }) as InvocationContext;

function capturedLines(run: (logger: ServiceLogger) => void): Record<string, unknown>[] {
  const saved = { ...process.env };
  // Lambda's on-demand initialization, where the first invocation is a cold start.
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  delete process.env.POWERTOOLS_DEV;
  const lines: string[] = [];
  // Powertools writes INFO and below to stdout, WARN and above to stderr.
  const capture = (chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  };
  const writes = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
  try {
    run(new ServiceLogger({ serviceName: 'skycache' }));
  } finally {
    for (const write of writes) write.mockRestore();
    process.env = saved;
  }
  return lines.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('a line carries the context of the invocation that wrote it, and cold start only on the first invocation', () => {
  const lines = capturedLines((logger) => {
    logger.useContext(invocation('first'));
    logger.info('first invocation');
    logger.useContext(invocation('second'));
    logger.useContext(invocation('third'));
    logger.warn('third invocation');
    logger.error('third invocation again');
  });
  expect(lines.map((l) => [l.message, l.function_request_id, l.cold_start])).toEqual([
    ['first invocation', 'first', true],
    ['third invocation', 'third', false],
    ['third invocation again', 'third', false],
  ]);
  expect(lines[0]).toMatchObject({ function_name: 'skycache-get-entry', function_memory_size: '1024', service: 'skycache' });
});

test('when the cold invocation logs nothing, a later one is not marked cold', () => {
  const lines = capturedLines((logger) => {
    logger.useContext(invocation('cold, silent'));
    logger.useContext(invocation('warm'));
    logger.info('warm invocation');
  });
  expect(lines.map((l) => [l.function_request_id, l.cold_start])).toEqual([['warm', false]]);
});

test('a cold invocation whose first line comes later still says cold start', () => {
  const lines = capturedLines((logger) => {
    logger.useContext(invocation('cold'));
    logger.debug('below the level: written nowhere');
    logger.info('cold invocation');
  });
  expect(lines.map((l) => [l.function_request_id, l.cold_start])).toEqual([['cold', true]]);
});
