import { describe, expect, it } from 'vitest';
import { parseRows, parseSideBySideArgs, ratioTable } from './side-by-side-table';

const dirs = { tokenizer: 't', scheduler: 's' };

describe('side-by-side arguments', () => {
  it('defaults to 512 px, every task, checkpointing off and on', () => {
    expect(parseSideBySideArgs([], dirs)).toEqual({ pixels: 512, timed: 2, genSteps: 25, tasks: ['ti', 'lora', 'generation'], checkpointing: [false, true], budgetS: 0, ...dirs });
  });
  it('takes a bare size and named options', () => {
    const a = parseSideBySideArgs(['64', '--timed', '1', '--gen-steps', '3', '--tasks', 'ti,generation', '--checkpointing', 'on', '--budget-s', '300', '--tokenizer', 'x'], dirs);
    expect(a).toMatchObject({ pixels: 64, timed: 1, genSteps: 3, tasks: ['ti', 'generation'], checkpointing: [true], budgetS: 300, tokenizer: 'x', scheduler: 's' });
  });
  it('refuses what it cannot run, with the usage line', () => {
    expect(() => parseSideBySideArgs(['100'], dirs)).toThrow(/multiple of 64/);
    expect(() => parseSideBySideArgs(['--tasks', 'dreambooth'], dirs)).toThrow(/unknown task dreambooth.*usage/);
    expect(() => parseSideBySideArgs(['--timed', '0'], dirs)).toThrow(/--timed must be an integer ≥ 1/);
    expect(() => parseSideBySideArgs(['--pixels'], dirs)).toThrow(/needs a value/);
    expect(() => parseSideBySideArgs(['--fast', '1'], dirs)).toThrow(/unknown argument --fast/);
  });
});

describe('ratio table', () => {
  const ours = [
    '# ours ti ckpt=false: warm-up step 3 s',
    JSON.stringify({ side: 'ours', task: 'weights', pixels: 512, precision: 'f16-packed', bytes: 2e9 }),
    JSON.stringify({ side: 'ours', task: 'ti', pixels: 512, precision: 'f16-packed', checkpointing: false, seconds_per_step: 0.6, high_water_bytes: 3e9 }),
    JSON.stringify({ side: 'ours', task: 'lora', pixels: 512, precision: 'f16-packed', checkpointing: true, seconds_per_step: 2, high_water_bytes: 2.5e9 }),
    JSON.stringify({ side: 'ours', task: 'generation', pixels: 512, precision: 'f16-packed', seconds_per_step: 0.5, high_water_bytes: 2.2e9 }),
    'not json {',
  ].join('\n');
  const diffusers = [
    JSON.stringify({ side: 'diffusers', task: 'ti', pixels: 512, precision: 'fp32', checkpointing: false, seconds_per_step: 0.2, high_water_bytes: 6e9 }),
    JSON.stringify({ side: 'diffusers', task: 'ti', pixels: 512, precision: 'fp16', checkpointing: false, seconds_per_step: 0.1, high_water_bytes: 4e9 }),
    JSON.stringify({ side: 'diffusers', task: 'ti', pixels: 512, precision: 'fp16', checkpointing: true, seconds_per_step: 0.15, high_water_bytes: 3e9 }),
    JSON.stringify({ side: 'diffusers', task: 'generation', pixels: 512, precision: 'fp16', seconds_per_step: 0.025, high_water_bytes: 2.75e9 }),
    JSON.stringify({ side: 'diffusers', task: 'lora', pixels: 512, precision: 'fp16', checkpointing: false, skipped: 'out of time' }),
  ].join('\n');

  it('keeps measurement rows only', () => {
    expect(parseRows(ours).map((r) => r.task)).toEqual(['ti', 'lora', 'generation']);
  });

  it('pairs each diffusers row with ours of the same task, size and checkpointing', () => {
    const lines = ratioTable(parseRows(ours), parseRows(diffusers)).split('\n').map((l) => l.split(/\s{2,}/));
    expect(lines[0]).toEqual(['task', 'px', 'ckpt', 'diffusers', 'ours s/step', 'diffusers s/step', 'ratio', 'ours GB', 'diffusers GB', 'ratio']);
    expect(lines.slice(1)).toEqual([
      ['ti', '512', 'off', 'fp32', '0.600', '0.200', '3.00×', '3.00', '6.00', '0.50×'],
      ['ti', '512', 'off', 'fp16', '0.600', '0.100', '6.00×', '3.00', '4.00', '0.75×'],
      ['ti', '512', 'on', 'fp16', '–', '0.150', '–', '–', '3.00', '–'],
      ['generation', '512', '–', 'fp16', '0.500', '0.025', '20.00×', '2.20', '2.75', '0.80×'],
      ['lora', '512', 'on', '(none)', '2.000', '–', '–', '2.50', '–', '–'],
    ]);
  });

  it('leaves bytes the CPU run could not measure as –', () => {
    const cpu = JSON.stringify({ side: 'diffusers', task: 'ti', pixels: 512, precision: 'fp32', checkpointing: false, seconds_per_step: 1.2, high_water_bytes: null });
    expect(ratioTable(parseRows(ours), parseRows(cpu)).split('\n')[1].split(/\s{2,}/)).toEqual(['ti', '512', 'off', 'fp32', '0.600', '1.200', '0.50×', '3.00', '–', '–']);
  });

  it('prints ours alone when the CUDA half did not run', () => {
    expect(ratioTable(parseRows(ours), []).split('\n')).toHaveLength(4);
  });
});
