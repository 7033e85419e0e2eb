import { buildConfig, ConfigError, configFromContext, EVICTION_POLICIES, nodeVcpus, PRESET_VALUES } from '../../lib/config';

function problems(preset: string | undefined, overrides: Record<string, unknown>): string {
  try {
    buildConfig(preset, overrides);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('presets', () => {
  test('dev and prod are valid as they stand', () => {
    expect(buildConfig('dev')).toEqual(PRESET_VALUES.dev);
    expect(buildConfig('prod')).toEqual(PRESET_VALUES.prod);
  });

  test('the default preset is dev', () => {
    expect(buildConfig(undefined).preset).toBe('dev');
  });

  test('both presets are highly available: Multi-AZ with replicas; prod spans three zones', () => {
    for (const c of [PRESET_VALUES.dev, PRESET_VALUES.prod]) {
      expect(c.multiAz).toBe(true);
      expect(c.replicasPerShard).toBeGreaterThanOrEqual(1);
      expect(c.snapshotRetentionDays).toBeGreaterThanOrEqual(1);
      expect(c.port).not.toBe(6379);
    }
    expect(PRESET_VALUES.prod.azCount).toBe(3);
    expect(PRESET_VALUES.prod.clusterMode).toBe(true);
  });

  test('an unknown preset is named', () => {
    expect(problems('staging', {})).toMatch(/preset: unknown preset "staging"; use one of dev, prod/);
  });
});

describe('context overrides', () => {
  test('every field can be overridden from context, strings coerced', () => {
    const context: Record<string, unknown> = {
      preset: 'prod',
      nodeType: 'cache.r7g.xlarge',
      shards: '3',
      replicasPerShard: '1',
      clusterMode: 'true',
      evictionPolicy: 'volatile-ttl',
      alarmEmail: 'ops@example.com',
      throttleRateLimit: '250',
      authMode: 'iam',
    };
    const c = configFromContext((k) => context[k]);
    expect(c).toMatchObject({
      preset: 'prod',
      nodeType: 'cache.r7g.xlarge',
      shards: 3,
      replicasPerShard: 1,
      clusterMode: true,
      evictionPolicy: 'volatile-ttl',
      alarmEmail: 'ops@example.com',
      throttleRateLimit: 250,
      authMode: 'iam',
    });
    expect(c.azCount).toBe(3); // untouched fields keep the preset's value
  });

  test.each(EVICTION_POLICIES)('eviction policy %s is accepted', (policy) => {
    expect(buildConfig('dev', { evictionPolicy: policy }).evictionPolicy).toBe(policy);
  });

  test('exactly the eight maxmemory-policy values', () => {
    expect([...EVICTION_POLICIES].sort()).toEqual(
      ['allkeys-lfu', 'allkeys-lru', 'allkeys-random', 'noeviction', 'volatile-lfu', 'volatile-lru', 'volatile-random', 'volatile-ttl'],
    );
  });

  test('unknown fields are rejected', () => {
    expect(() => buildConfig('dev', { nodeTyp: 'cache.r7g.large' } as never)).toThrow(/nodeTyp/);
  });
});

describe('validation with clear messages', () => {
  test('replica reads need a replica', () => {
    expect(problems('dev', { replicasPerShard: 0, multiAz: false, readFrom: 'replica' })).toMatch(/readFrom: reading from replicas needs at least one replica/);
  });

  test('Multi-AZ needs at least one replica', () => {
    expect(problems('dev', { replicasPerShard: 0 })).toMatch(/multiAz: Multi-AZ needs at least one replica per shard/);
    expect(() => buildConfig('dev', { replicasPerShard: 0, multiAz: false })).not.toThrow();
  });

  test('cluster mode needs a node type that supports it', () => {
    expect(problems('dev', { clusterMode: true, nodeType: 'cache.t1.micro', multiAz: false })).toMatch(/clusterMode: node type cache.t1.micro does not support cluster mode/);
  });

  test('more than one shard needs cluster mode', () => {
    expect(problems('dev', { shards: 3 })).toMatch(/shards: 3 shards need cluster mode/);
  });

  test('a malformed node type', () => {
    expect(problems('dev', { nodeType: 'r7g.large' })).toMatch(/nodeType: must look like cache.<family>.<size>/);
  });

  test('engine and version must match', () => {
    expect(problems('dev', { engine: 'redis', engineVersion: '8.0' })).toMatch(/engineVersion: redis 8.0 is not supported; use one of 7.0, 7.1/);
    expect(problems('dev', { engine: 'redis', engineVersion: '6.2' })).toMatch(/engineVersion: redis 6.2 is not supported/);
    expect(problems('dev', { engine: 'memcached' })).toMatch(/engine:/);
  });

  test('an eviction policy outside the eight', () => {
    expect(problems('dev', { evictionPolicy: 'lru' })).toMatch(/evictionPolicy:/);
  });

  test('default TTL above the maximum', () => {
    expect(problems('dev', { defaultTtlSeconds: 100, maxTtlSeconds: 10 })).toMatch(/defaultTtlSeconds: 100 exceeds maxTtlSeconds \(10\)/);
  });

  test('maximum value size within what Lambda can carry', () => {
    expect(problems('dev', { maxValueBytes: 7 * 1024 * 1024 })).toMatch(/maxValueBytes:/);
  });

  test('Redis timeout well below the function timeout', () => {
    expect(problems('dev', { redisTimeoutMs: 9000 })).toMatch(/redisTimeoutMs: 9000 ms must be at most half of lambdaTimeoutSeconds/);
  });

  test('topic retention, idle time and the long-poll wait (within API Gateway\'s 29 s)', () => {
    expect(problems('dev', { topicIdleSeconds: 60, topicRetentionSeconds: 3600 })).toMatch(/topicIdleSeconds: 60 is shorter than topicRetentionSeconds \(3600\)/);
    expect(problems('dev', { topicMaxWaitSeconds: 26 })).toMatch(/topicMaxWaitSeconds:/);
    expect(problems('dev', { topicMaxWaitSeconds: 25, redisTimeoutMs: 2000 })).toMatch(/topicMaxWaitSeconds: 25 s plus two Redis timeouts .* exceeds API Gateway's 29 s/);
    expect(problems('dev', { topicRetentionMessages: 0 })).toMatch(/topicRetentionMessages:/);
    expect(problems('dev', { changeEvents: 'yes' })).toMatch(/changeEvents:/);
  });

  test('snapshot retention of at least one day (the export needs a snapshot) and a well-formed window', () => {
    expect(problems('dev', { snapshotRetentionDays: 0 })).toMatch(/snapshotRetentionDays:/);
    expect(problems('dev', { snapshotWindow: '3am' })).toMatch(/snapshotWindow: must be hh24:mi-hh24:mi/);
    expect(problems('dev', { snapshotWindow: '05:00-06:00' })).toMatch(/snapshotWindow: 05:00-06:00 overlaps maintenanceWindow/);
  });

  test('export schedule, alarm e-mail, auth mode, quota period, log retention', () => {
    expect(problems('dev', { exportSchedule: 'daily' })).toMatch(/exportSchedule: must be an EventBridge schedule expression/);
    expect(problems('dev', { alarmEmail: 'not-an-address' })).toMatch(/alarmEmail: must be an e-mail address/);
    expect(problems('dev', { authMode: 'cognito' })).toMatch(/authMode:/);
    expect(problems('dev', { quotaPeriod: 'HOUR' })).toMatch(/quotaPeriod:/);
    expect(problems('dev', { apiLogRetentionDays: 10 })).toMatch(/apiLogRetentionDays: must be one of the CloudWatch Logs retention periods/);
  });

  test('data-tiering nodes cannot export', () => {
    expect(problems('prod', { nodeType: 'cache.r6gd.xlarge' })).toMatch(/exportEnabled: ElastiCache cannot export backups of data-tiering nodes/);
  });

  test('every problem is reported at once', () => {
    const message = problems('dev', { shards: 2, defaultTtlSeconds: 100, maxTtlSeconds: 10, replicasPerShard: 0 });
    expect(message).toMatch(/shards:/);
    expect(message).toMatch(/defaultTtlSeconds:/);
    expect(message).toMatch(/multiAz:/);
  });
});

describe('restoreFromSnapshotArns', () => {
  const base = 'arn:aws:s3:::old-exports/skycache-valkey-8-0-shards-2-automatic-rg-2026-11-26-03-00';
  const both = [`${base}-0001.rdb`, `${base}-0002.rdb`];

  test('every file of one export, from context as a comma-separated list or an array', () => {
    expect(configFromContext((k) => ({ preset: 'prod', restoreFromSnapshotArns: both.join(',') })[k]).restoreFromSnapshotArns).toEqual(both);
    expect(buildConfig('prod', { restoreFromSnapshotArns: both }).restoreFromSnapshotArns).toEqual(both);
    expect(buildConfig('prod').restoreFromSnapshotArns).toEqual([]);
  });

  test('a file from outside skycache is accepted for what its name tells', () => {
    expect(buildConfig('dev', { restoreFromSnapshotArns: 'arn:aws:s3:::migration/dump.rdb' }).restoreFromSnapshotArns).toHaveLength(1);
  });

  test('malformed ARNs are named', () => {
    expect(problems('dev', { restoreFromSnapshotArns: 'arn:aws:s3:::b/dump.txt' })).toMatch(/restoreFromSnapshotArns\.0: each must be the S3 object ARN of an \.rdb file/);
    expect(problems('dev', { restoreFromSnapshotArns: 's3://b/dump.rdb' })).toMatch(/restoreFromSnapshotArns\.0:/);
  });

  test('a cluster-mode-disabled group takes exactly one file, and not one of a sharded export', () => {
    expect(problems('dev', { restoreFromSnapshotArns: both })).toMatch(/restoreFromSnapshotArns: a cluster-mode-disabled replication group is seeded from exactly one \.rdb file, 2 given/);
    expect(problems('dev', { restoreFromSnapshotArns: both[0] })).toMatch(/restoreFromSnapshotArns: the export holds 2 shards; a cluster-mode-disabled group cannot be seeded/);
  });

  test('cluster mode: every shard file of the export, of one export only', () => {
    expect(problems('prod', { restoreFromSnapshotArns: both[1] })).toMatch(/restoreFromSnapshotArns: the export has 2 shard files but -0001\.rdb is not listed/);
    expect(problems('prod', { restoreFromSnapshotArns: [both[0], 'arn:aws:s3:::other/dump-0002.rdb'] })).toMatch(/restoreFromSnapshotArns: the files must be the <name>-0001\.rdb … <name>-000n\.rdb of one export/);
    expect(problems('prod', { restoreFromSnapshotArns: [both[0], both[0]] })).toMatch(/restoreFromSnapshotArns: the same file is listed twice/);
    // The new group may have another shard count: ElastiCache spreads the keys over its shards.
    expect(buildConfig('prod', { restoreFromSnapshotArns: both, shards: 3 }).shards).toBe(3);
  });

  test('the engine only moves forward', () => {
    expect(problems('prod', { restoreFromSnapshotArns: both, engine: 'redis', engineVersion: '7.1' })).toMatch(/restoreFromSnapshotArns: the export is of valkey 8\.0; it can only seed a valkey group \(engine=redis\)/);
    expect(problems('prod', { restoreFromSnapshotArns: both, engineVersion: '7.2' })).toMatch(/restoreFromSnapshotArns: the export is of valkey 8\.0; it cannot seed the older valkey 7\.2/);
    expect(buildConfig('prod', { restoreFromSnapshotArns: both, engineVersion: '8.1' }).engineVersion).toBe('8.1');
    const redis = 'arn:aws:s3:::old/skycache-redis-7-1-shards-1-automatic-rg-x-0001.rdb';
    expect(buildConfig('dev', { restoreFromSnapshotArns: redis }).engine).toBe('valkey');
    expect(problems('dev', { restoreFromSnapshotArns: redis, engine: 'redis', engineVersion: '7.0' })).toMatch(/cannot seed the older redis 7\.0/);
  });
});

test('vCPUs of a node type, as the CPU alarms need them', () => {
  expect(nodeVcpus('cache.t4g.small')).toBe(2);
  expect(nodeVcpus('cache.r7g.large')).toBe(2);
  expect(nodeVcpus('cache.r7g.xlarge')).toBe(4);
  expect(nodeVcpus('cache.m7g.16xlarge')).toBe(64);
  expect(nodeVcpus('cache.t2.micro')).toBe(1);
});

test('a WAF rate limit needs WAF', () => {
  expect(() => buildConfig('dev', { wafRateLimitPer5Min: 1000 })).toThrow(/wafRateLimitPer5Min: a WAF rate limit needs wafEnabled=true/);
  expect(buildConfig('dev', { wafEnabled: true, wafRateLimitPer5Min: 1000 }).wafRateLimitPer5Min).toBe(1000);
});

test('accessString must switch the user on and may not carry what ElastiCache refuses', () => {
  expect(() => buildConfig('dev', { accessString: '~* +get' })).toThrow(/accessString: must switch the user on/);
  expect(() => buildConfig('dev', { accessString: 'on reset ~* +get' })).toThrow(/accessString: must not contain reset/);
  expect(() => buildConfig('dev', { accessString: 'on >secret ~* +get' })).toThrow(/accessString: must not contain/);
  expect(buildConfig('dev', { accessString: 'on ~* -@all +get' }).accessString).toBe('on ~* -@all +get');
});

test('wafRateLimitPer5Min: 0 or WAF\'s range (10 to 2e9); prod defaults to 100000', () => {
  expect(buildConfig('prod').wafRateLimitPer5Min).toBe(100_000);
  expect(() => buildConfig('prod', { wafRateLimitPer5Min: 5 })).toThrow(/wafRateLimitPer5Min/);
  expect(() => buildConfig('prod', { wafRateLimitPer5Min: 3_000_000_000 })).toThrow(/wafRateLimitPer5Min/);
  expect(buildConfig('prod', { wafRateLimitPer5Min: 0 }).wafRateLimitPer5Min).toBe(0);
});

describe('front', () => {
  const certificate = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';

  test('api is the default of both presets; service is taken from context, with the service settings coerced', () => {
    expect(PRESET_VALUES.dev.front).toBe('api');
    expect(PRESET_VALUES.prod.front).toBe('api');
    const c = configFromContext((k) => ({ preset: 'prod', front: 'service', serviceMinTasks: '4', serviceMaxTasks: '8', serviceCpu: '4096', serviceMemoryMb: '8192' })[k]);
    expect(c).toMatchObject({ front: 'service', loadBalancerScheme: 'internal', serviceMinTasks: 4, serviceMaxTasks: 8, serviceCpu: 4096, serviceMemoryMb: 8192 });
  });

  test('an unknown front is named with the choices', () => {
    expect(problems('dev', { front: 'ec2' })).toMatch(/front: .*"api".*"service"/);
  });

  test('internet-facing needs a certificate; a certificate must be an ACM ARN', () => {
    expect(problems('dev', { front: 'service', loadBalancerScheme: 'internet-facing' })).toMatch(/loadBalancerScheme: an internet-facing load balancer serves HTTPS only; set certificateArn/);
    expect(buildConfig('dev', { front: 'service', loadBalancerScheme: 'internet-facing', certificateArn: certificate }).certificateArn).toBe(certificate);
    expect(problems('dev', { certificateArn: 'my-cert' })).toMatch(/certificateArn: must be an ACM certificate ARN/);
    expect(problems('dev', { loadBalancerScheme: 'public' })).toMatch(/loadBalancerScheme: /);
  });

  test('at least two tasks, the maximum not below the minimum', () => {
    expect(problems('dev', { serviceMinTasks: 1 })).toMatch(/serviceMinTasks: /);
    expect(problems('dev', { serviceMinTasks: 6, serviceMaxTasks: 4 })).toMatch(/serviceMaxTasks: 4 is below serviceMinTasks \(6\)/);
  });

  test('task CPU and memory must be a Fargate size', () => {
    expect(problems('dev', { serviceCpu: 1000 })).toMatch(/serviceCpu: must be one of the Fargate CPU sizes: 256, 512, 1024/);
    expect(problems('dev', { serviceCpu: 1024, serviceMemoryMb: 1024 })).toMatch(/serviceMemoryMb: 1024 MiB is not a Fargate size for serviceCpu 1024; use 2048-8192 MiB in steps of 1024/);
    expect(problems('dev', { serviceCpu: 256, serviceMemoryMb: 1536 })).toMatch(/serviceMemoryMb: 1536 MiB/);
    expect(buildConfig('dev', { serviceCpu: 256, serviceMemoryMb: 2048 }).serviceMemoryMb).toBe(2048);
    expect(buildConfig('dev', { serviceCpu: 16384, serviceMemoryMb: 122880 }).serviceCpu).toBe(16384);
  });
});
