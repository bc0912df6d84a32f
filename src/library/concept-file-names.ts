/** The names a concept's exported files get, which A1111 then knows it by. */

/** File name from the token: `<my-dog>` → `my-dog`. */
export function conceptFileStem(token: string): string {
  return token.replace(/[<>]/g, '').replace(/[^\w.-]+/g, '_') || 'concept';
}

/** The kohya LoRA file's stem, which A1111's `<lora:name:…>` tags name. */
export function kohyaLoraName(token: string): string {
  return `${conceptFileStem(token)}-lora-kohya`;
}
