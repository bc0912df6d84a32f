/** The engine's refusal of an image size before any work (`model/size-cost.ts`): an InvalidRequest saying why. */
import { StudioError } from '../common/errors';
import type { GpuCapabilities } from '../gpu/device';
import { checkImageSize, type SizeProfile, type SizeRequest } from '../model/size-cost';

export function refuseOversize(profile: SizeProfile, request: SizeRequest, capabilities: GpuCapabilities): void {
  const verdict = checkImageSize(profile, request, capabilities.limits);
  if (verdict.kind === 'refuse') throw new StudioError('InvalidRequest', verdict.message, `Choose a smaller size; this model draws best at ${profile.nativeSize} px.`);
}
