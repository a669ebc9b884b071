import {getJwt} from './jwt';

/** What the chatbot backend answers to `POST /chat` (examples/chatbot-backend). */
export interface ChatAnswer {
  answer: string;
  /** The user the backend saw in the JWT, profile fields included. */
  user?: Record<string, unknown> | null;
  /** How the backend described the reader to tailor the answer. */
  context?: string | null;
}

/** Why a question got no answer, in words a reader can act on. */
export class ChatError extends Error {
  constructor(
    message: string,
    readonly kind: 'signed-out' | 'unreachable' | 'server',
  ) {
    super(message);
    this.name = 'ChatError';
  }
}

/** Sends `question` to `{chatbotUrl}/chat` with the reader's JWT as a bearer token. */
export async function askChatbot(
  chatbotUrl: string,
  authBaseURL: string,
  question: string,
  signal?: AbortSignal,
): Promise<ChatAnswer> {
  const jwt = await getJwt(authBaseURL).catch(() => null);
  if (!jwt) {
    throw new ChatError('Sign in to ask the assistant.', 'signed-out');
  }
  let response: Response;
  try {
    response = await fetch(`${chatbotUrl}/chat`, {
      method: 'POST',
      headers: {'Content-Type': 'application/json', Authorization: `Bearer ${jwt}`},
      body: JSON.stringify({question}),
      signal: signal ?? null,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') {
      throw error;
    }
    throw new ChatError('The assistant cannot be reached right now. Please try again later.', 'unreachable');
  }
  const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
  if (response.status === 401) {
    throw new ChatError('Your session has ended. Sign in again to ask the assistant.', 'signed-out');
  }
  if (!response.ok || typeof body?.answer !== 'string') {
    // FastAPI puts its reason in `detail`; hallpass-style services in `message`.
    const reason = typeof body?.detail === 'string' ? body.detail : typeof body?.message === 'string' ? body.message : '';
    throw new ChatError(reason || `The assistant could not answer (HTTP ${response.status}).`, 'server');
  }
  return {
    answer: body.answer,
    user: (body.user as Record<string, unknown> | null | undefined) ?? null,
    context: typeof body.context === 'string' ? body.context : null,
  };
}
