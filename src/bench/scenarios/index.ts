import type { ScenarioName } from '../options.js';
import type { Scenario } from '../scenario.js';
import { connect } from './connect.js';
import { direct } from './direct.js';
import { group } from './group.js';
import { httpPull, httpSend } from './http.js';
import { reconnectStorm } from './reconnect-storm.js';

export const SCENARIO_MODULES: Readonly<Record<ScenarioName, Scenario>> = {
  direct,
  group,
  connect,
  'reconnect-storm': reconnectStorm,
  'http-send': httpSend,
  'http-pull': httpPull,
};
