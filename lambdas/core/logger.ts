import { Logger } from '@aws-lambda-powertools/logger';
import { serviceNameOf } from './config';

/** One structured logger for every handler; level from POWERTOOLS_LOG_LEVEL / LOG_LEVEL (tests set SILENT). */
export const logger = new Logger({ serviceName: serviceNameOf() });
