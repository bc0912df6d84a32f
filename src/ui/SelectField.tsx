/** A labelled `<select>` over a fixed list of `[value, label]` choices. */
export function SelectField<T extends string>({ label, name, value, choices, onChange }: { label: string; name: string; value: T; choices: readonly (readonly [T, string])[]; onChange: (value: T) => void }) {
  return (
    <label>
      {label}
      <select name={name} value={value} onChange={(e) => onChange(choices.find(([v]) => v === e.target.value)?.[0] ?? value)}>
        {choices.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}
