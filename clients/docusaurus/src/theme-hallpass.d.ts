/**
 * Types of the theme components this plugin provides, for the plugin's own code and for sites that
 * import or swizzle them (`npm run swizzle docusaurus-plugin-hallpass Hallpass/ChatBox -- --wrap`).
 */

declare module '@theme/Hallpass/Block' {
  import type {ReactNode} from 'react';

  export interface Props {
    readonly state: 'pending' | 'ready';
    readonly adapted?: boolean;
    readonly inline?: boolean;
    readonly children?: ReactNode;
  }
  export default function HallpassBlock(props: Props): ReactNode;
}

declare module '@theme/Hallpass/ForLevel' {
  import type {ReactNode} from 'react';
  import type {LevelCondition} from 'docusaurus-plugin-hallpass/client';

  export interface Props extends LevelCondition {
    readonly inline?: boolean;
    readonly children?: ReactNode;
  }
  /** `hallpassRole` marks it as a case for `<LevelSwitch>`: keep it when swizzling. */
  const ForLevel: ((props: Props) => ReactNode) & {hallpassRole: 'case'};
  export default ForLevel;
}

declare module '@theme/Hallpass/Default' {
  import type {ReactNode} from 'react';
  import type {Dimension} from 'docusaurus-plugin-hallpass/client';

  export interface Props {
    readonly dimension?: Dimension;
    readonly inline?: boolean;
    readonly children?: ReactNode;
  }
  /** `hallpassRole` marks it as the fallback for `<LevelSwitch>`: keep it when swizzling. */
  const Default: ((props: Props) => ReactNode) & {hallpassRole: 'default'};
  export default Default;
}

declare module '@theme/Hallpass/LevelSwitch' {
  import type {ReactNode} from 'react';

  export interface Props {
    readonly inline?: boolean;
    readonly children?: ReactNode;
  }
  export default function LevelSwitch(props: Props): ReactNode;
}

declare module '@theme/Hallpass/PersonalizeChapter' {
  import type {ReactNode} from 'react';

  export interface Props {
    readonly className?: string;
  }
  export default function PersonalizeChapter(props: Props): ReactNode;
}

declare module '@theme/Hallpass/ChatBox' {
  import type {ReactNode} from 'react';

  export interface Props {
    readonly title?: string;
    readonly placeholder?: string;
    readonly className?: string;
  }
  export default function ChatBox(props: Props): ReactNode;
}

declare module '@theme/Hallpass/NavbarItem' {
  import type {ReactNode} from 'react';

  export interface Props {
    readonly mobile?: boolean;
    readonly position?: 'left' | 'right';
    readonly className?: string;
    readonly label?: string;
  }
  export default function HallpassNavbarItem(props: Props): ReactNode;
}

declare module '@theme/Hallpass/AuthPage' {
  import type {ReactNode} from 'react';

  export interface Props {
    readonly title: string;
    readonly description?: string;
    readonly wide?: boolean;
    readonly children?: ReactNode;
  }
  export default function AuthPage(props: Props): ReactNode;
}

declare module '@theme/Hallpass/Field' {
  import type {ReactNode} from 'react';

  export interface Props {
    readonly name: string;
    readonly label: string;
    readonly value: string;
    readonly onChange: (value: string) => void;
    readonly type?: 'text' | 'email' | 'password' | 'number';
    readonly error?: string | undefined;
    readonly hint?: string;
    readonly autoComplete?: string;
    readonly required?: boolean;
    readonly maxLength?: number | undefined;
    readonly disabled?: boolean;
  }
  export default function Field(props: Props): ReactNode;
}

declare module '@theme/Hallpass/FormMessage' {
  import type {ReactNode} from 'react';

  export interface Props {
    readonly kind: 'error' | 'success' | 'info';
    readonly children?: ReactNode;
  }
  export default function FormMessage(props: Props): ReactNode;
}

declare module '@theme/Hallpass/ProfileQuestions' {
  import type {ReactNode} from 'react';
  import type {FormErrors, ProfileField} from 'docusaurus-plugin-hallpass/client';

  export type ProfileValue = string | number | boolean | null;
  export interface Props {
    readonly fields: ProfileField[];
    readonly values: Record<string, ProfileValue>;
    readonly onChange: (key: string, value: ProfileValue) => void;
    readonly errors: FormErrors;
    readonly disabled?: boolean;
  }
  export default function ProfileQuestions(props: Props): ReactNode;
}

declare module '@theme/Hallpass/SignInPage' {
  import type {ReactNode} from 'react';

  export default function SignInPage(): ReactNode;
}

declare module '@theme/Hallpass/SignUpPage' {
  import type {ReactNode} from 'react';

  export default function SignUpPage(): ReactNode;
}

declare module '@theme/Hallpass/ProfilePage' {
  import type {ReactNode} from 'react';

  export default function ProfilePage(): ReactNode;
}

declare module '@theme-init/DocItem/Content' {
  export {default} from '@theme/DocItem/Content';
}

declare module '@theme-init/MDXComponents' {
  export {default} from '@theme/MDXComponents';
}

declare module '@theme-init/NavbarItem/ComponentTypes' {
  export {default} from '@theme/NavbarItem/ComponentTypes';
}
