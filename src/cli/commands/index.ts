/** Every subcommand registers itself on the root program; add new ones here. */
import type { Command } from 'commander';
import { registerDemo } from './demo';
import { registerSchedule } from './schedule';
import { registerTrain } from './train';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [registerDemo, registerSchedule, registerTrain];
