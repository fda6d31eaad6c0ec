// What the jsonParsed parsers (json-parsed-system.ts, json-parsed-token.ts) take and give: an instruction with its
// accounts resolved to addresses, a parsed `{ type, info }`, and a reader whose missing accounts throw (the caller then
// shows the instruction undecoded, as a validator does).

export interface InstructionInput {
  programId: string;
  /** The instruction's accounts, already resolved to addresses. */
  accounts: string[];
  data: Uint8Array;
  stackHeight: number | null;
}

/** An account or instruction in jsonParsed form; undefined when the layout or tag is not one the chain parses. */
export type Parsed = { type: string; info: Record<string, unknown> } | undefined;

/** Looks up a mint's decimals (token accounts and checked instructions need them). */
export type DecimalsOf = (mint: string) => number | undefined;

/** The instruction's data (bytes and a DataView) and its accounts by index; asking for a missing account throws. */
export function reader(ix: InstructionInput) {
  const view = new DataView(ix.data.buffer, ix.data.byteOffset, ix.data.byteLength);
  const account = (index: number) => {
    const key = ix.accounts[index];
    if (key === undefined) throw new Error('not enough accounts');
    return key;
  };
  return { view, account, data: ix.data };
}
