#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, configFromContext } from '../lib/config';
import { SkycacheStack } from '../lib/skycache-stack';

const app = new App();
let config;
try {
  config = configFromContext((key) => app.node.tryGetContext(key));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? `skycache-${config.preset}`;
new SkycacheStack(app, stackName, {
  config,
  description: `skycache (${config.preset}): a distributed cache service — API Gateway, Lambda, ElastiCache`,
  tags: { service: 'skycache', preset: config.preset },
});

// cdk-nag's AWS Solutions pack checks every synth; unacknowledged findings fail it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
