#!/usr/bin/env node
import { builtInModules } from '../executors/index.js';
import { buildProgram, exitOnError } from './program.js';

buildProgram(builtInModules).parseAsync(process.argv).catch(exitOnError);
