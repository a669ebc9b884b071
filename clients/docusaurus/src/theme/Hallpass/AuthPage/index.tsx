import {type ReactNode} from 'react';
import clsx from 'clsx';
import Head from '@docusaurus/Head';
import Layout from '@theme/Layout';
import styles from './styles.module.css';

export interface Props {
  title: string;
  description?: string;
  /** Wider card (the profile page). */
  wide?: boolean;
  children?: ReactNode;
}

/** The frame of the sign-in, sign-up and profile pages: the site's own layout, a card, no indexing. */
export default function AuthPage({title, description, wide = false, children}: Props): ReactNode {
  return (
    <Layout title={title} description={description}>
      {/* Also keeps these pages out of the sitemap (the sitemap plugin skips noindex pages). */}
      <Head>
        <meta name="robots" content="noindex, nofollow" />
      </Head>
      <main className={clsx('container', styles.page)}>
        <div className={clsx(styles.card, wide && styles.wide)}>
          <h1 className={styles.title}>{title}</h1>
          {children}
        </div>
      </main>
    </Layout>
  );
}
