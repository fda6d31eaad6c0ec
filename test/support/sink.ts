// A stand-in for stdout/stderr that keeps what is written, for running commands in-process (not a terminal).
export class Sink {
  text = '';
  isTTY = false;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}
