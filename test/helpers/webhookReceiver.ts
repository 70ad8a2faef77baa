import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A real HTTP receiver of webhooks for the tests. Verifies every delivery with the `standardwebhooks`
 * package (an independent implementation of the spec) against each secret it is told, counts duplicates,
 * and answers as told: 2xx, 500, 429 with Retry-After, 410, slowly, or not at all (stopped).
 */
export interface Received {
  id: string;
  timestamp: number;
  type: string;
  body: { type: string; timestamp: string; data: Record<string, unknown> };
  /** Which of the receiver's secrets verified it (by index). */
  verifiedBy: number[];
  signatures: string[];
  at: number;
}

export type Answer = { status: number; headers?: Record<string, string>; delayMs?: number };

export class WebhookReceiver {
  readonly received: Received[] = [];
  secrets: string[] = [];
  /** Answers for the next requests, in order; then `fallback`. */
  answers: Answer[] = [];
  fallback: Answer = { status: 204 };
  private server: Server | undefined;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        this.record(text, req.headers);
        const answer = this.answers.shift() ?? this.fallback;
        // Unref'd: an answer held for minutes must not keep the test process alive after the test.
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(answer.status, answer.headers).end();
        }, answer.delayMs ?? 0).unref();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  private record(text: string, headers: IncomingHttpHeaders) {
    const h = {
      'webhook-id': String(headers['webhook-id']),
      'webhook-timestamp': String(headers['webhook-timestamp']),
      'webhook-signature': String(headers['webhook-signature']),
    };
    const verifiedBy = this.secrets.flatMap((secret, i) => {
      try {
        new Webhook(secret).verify(text, h);
        return [i];
      } catch {
        return [];
      }
    });
    const body = JSON.parse(text) as Received['body'];
    this.received.push({
      id: h['webhook-id'],
      timestamp: Number(h['webhook-timestamp']),
      type: body.type,
      body,
      verifiedBy,
      signatures: h['webhook-signature'].split(' '),
      at: Date.now(),
    });
  }

  of(type: string): Received[] {
    return this.received.filter((r) => r.type === type);
  }
}
