/** Every subcommand registers itself on the root program; add new ones here. */
import type { Command } from 'commander';
import { registerAttack } from './attack';
import { registerCompile } from './compile';
import { registerDemo } from './demo';
import { registerMerge } from './merge';
import { registerReproduce } from './reproduce';
import { registerRun } from './run';
import { registerSchedule } from './schedule';
import { registerStart } from './start';
import { registerStudy } from './study';
import { registerTrain } from './train';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [registerStart, registerCompile, registerRun, registerDemo, registerSchedule, registerTrain, registerStudy, registerMerge, registerAttack, registerReproduce];
